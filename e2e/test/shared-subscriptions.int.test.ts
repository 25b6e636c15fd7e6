// Shared subscriptions across the proxies of a local fleet: each message goes to exactly one member of the group
// fleet-wide, and when a member leaves, the others take its share.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import type { Fleet } from '../src/fleet/fleet.js';
import { connectClient, startTestFleet } from './support/test-fleet.js';

const BATCH = 300;

describe('shared subscriptions through a local fleet', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startTestFleet(2, 3);
  }, 120_000);
  afterAll(async () => fleet.stop(), 60_000);

  it('each message reaches one member fleet-wide; a member that leaves hands its share to the others', async () => {
    const counts = new Map<string, number>();
    const byMember: number[] = [0, 0, 0];
    const members: MqttClient[] = [];
    for (let m = 0; m < 3; m++) {
      const member = await connectClient(fleet, m % 2, { protocolVersion: 5, clientId: `member-${m}` });
      member.on('message', (_topic, payload) => {
        const key = payload.toString();
        counts.set(key, (counts.get(key) ?? 0) + 1);
        byMember[m] = (byMember[m] ?? 0) + 1;
      });
      await member.subscribeAsync('$share/workers/jobs/#', { qos: 1 });
      members.push(member);
    }
    const publisher = await connectClient(fleet, 1, { protocolVersion: 5, clientId: 'jobs-pub' });
    const received = async (total: number): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (counts.size < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    try {
      for (let i = 0; i < BATCH; i++) await publisher.publishAsync(`jobs/${i % 12}`, `a${i}`, { qos: 1 });
      await received(BATCH);
      expect(counts.size).toBe(BATCH);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      const firstShare = [...byMember];
      expect(firstShare.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2); // spread over members, on both proxies

      await members[0]?.endAsync();
      const before = [...byMember];
      for (let i = 0; i < BATCH; i++) await publisher.publishAsync(`jobs/${i % 12}`, `b${i}`, { qos: 1 });
      await received(2 * BATCH);
      expect(counts.size).toBe(2 * BATCH);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(byMember[0]).toBe(before[0]); // the member that left got nothing more
      process.stdout.write(`shared subscription: first ${BATCH} split ${firstShare.join('/')}, after member 0 left ${byMember.map((n, m) => n - (before[m] ?? 0)).join('/')}\n`);
    } finally {
      await Promise.all([...members.slice(1).map((m) => m.endAsync()), publisher.endAsync()]);
    }
  }, 60_000);
});

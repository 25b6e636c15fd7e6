// Shard scale-out 3 → 4 under QoS 1 load in a local fleet: the two-step ring transition loses no acknowledged
// message, the moved fraction is about 1/4, and retained messages of moved topics are served by their new owner
// (and found once by a wildcard subscription).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Qos1Load } from '../src/chaos/qos1-load.js';
import type { Fleet } from '../src/fleet/fleet.js';
import { changeShardCount, finishShardChange } from '../src/fleet/shard-change.js';
import { collectMessages, connectClient, startTestFleet } from './support/test-fleet.js';

const RETAINED = 60;

describe('shard scale-out 3 → 4', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startTestFleet(2, 3, { portsPerBlock: 4 });
  }, 120_000);
  afterAll(async () => fleet.stop(), 60_000);

  it('moves about 1/4 of the topics, copies their retained messages and loses no acknowledged message', async () => {
    const publisher = await connectClient(fleet, 0, { protocolVersion: 5 });
    for (let n = 0; n < RETAINED; n++) await publisher.publishAsync(`kept/t${n}`, `r${n}`, { qos: 1, retain: true });
    await publisher.endAsync();
    const port = (i: number): number => Number(new URL(fleet.proxyEndpoints[i]?.mqttUrl ?? '').port);
    const load = await Qos1Load.start({
      endpoints: [0, 1].map((i) => ({ host: '127.0.0.1', port: port(i) })),
      prefix: 'scale',
      publishers: 4,
      ratePerSecond: 50,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const report = await changeShardCount(fleet, 4, { transitionMs: 3_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    load.pause();
    const counts = await load.settle(15_000);
    await load.close();
    process.stdout.write(
      `scale-out 3 → 4: moved fraction ${report.movedFraction.toFixed(4)}; retained scanned ${report.retained.scanned}, moved ${report.retained.moved}, ` +
        `copied ${report.retained.copied}, kept ${report.retained.kept}; ${report.durationMs} ms; ` +
        `acknowledged ${counts.acknowledged}, lost ${counts.lost}, duplicated ${counts.duplicated}\n`,
    );
    expect(report.movedFraction).toBeGreaterThan(0.2);
    expect(report.movedFraction).toBeLessThan(0.3);
    expect(report.retained.scanned).toBe(RETAINED);
    expect(report.retained.moved).toBeGreaterThan(0);
    expect(report.retained.copied).toBe(report.retained.moved);
    expect(counts.acknowledged).toBeGreaterThan(100);
    expect(counts.lost).toBe(0);

    // every retained message once under a wildcard, and each literal topic from its (new) owner
    const reader = await connectClient(fleet, 1, { protocolVersion: 5 });
    const all = collectMessages(reader, RETAINED);
    await reader.subscribeAsync('kept/#', { qos: 1 });
    expect(new Set((await all).map((m) => m.topic)).size).toBe(RETAINED);
    const literal = collectMessages(reader, RETAINED);
    await reader.unsubscribeAsync('kept/#');
    for (let n = 0; n < RETAINED; n++) await reader.subscribeAsync(`kept/t${n}`, { qos: 1 });
    expect((await literal).map((m) => m.payload.toString()).sort()).toEqual(Array.from({ length: RETAINED }, (_, n) => `r${n}`).sort());
    await reader.endAsync();
    await finishShardChange(fleet);
    expect(fleet.ring().previous).toBeUndefined();
  }, 120_000);
});

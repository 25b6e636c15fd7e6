// The ring is reloaded from its file while devices stay connected: a new version moves topics between shards,
// and neither a subscriber nor a publisher is disconnected or misses a message.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import type { Fleet } from '../src/fleet/fleet.js';
import { httpGet } from '../src/processes/child-process.js';
import { collectMessages, connectClient, startTestFleet } from './support/test-fleet.js';

/** Resolves once every proxy reports `version` as its ring version (polling /metrics; there is no event). */
async function ringVersionEverywhere(fleet: Fleet, version: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bodies = await Promise.all(fleet.proxyEndpoints.map(async (e) => (await httpGet(`${e.httpUrl}/metrics`)).body));
    if (bodies.every((body) => new RegExp(`^shoal_proxy_ring_version ${version}$`, 'm').test(body))) return;
    if (Date.now() > deadline) throw new Error(`ring version ${version} not applied in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once `file` holds a line matching `pattern` (polling: a log file has no event). */
async function logLine(file: string, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(await readFile(file, 'utf8').catch(() => ''))) {
    if (Date.now() > deadline) throw new Error(`${String(pattern)} not logged in ${file} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('ring reload', () => {
  let fleet: Fleet;
  let subscriber: MqttClient;
  let publisher: MqttClient;
  beforeAll(async () => {
    fleet = await startTestFleet(2, 3);
    subscriber = await connectClient(fleet, 0, { protocolVersion: 5, clientId: 'ring-sub' });
    publisher = await connectClient(fleet, 1, { protocolVersion: 4, clientId: 'ring-pub' });
    await subscriber.subscribeAsync(['r/+', 'lit/7'], { qos: 1 });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
    await fleet.stop();
  }, 60_000);

  it('applies a new ring version without dropping a connection, and delivers across the change', async () => {
    let disconnects = 0;
    for (const client of [subscriber, publisher]) client.on('close', () => (disconnects += 1));
    const topics = [...Array(30).keys()].map((i) => `r/${i}`);
    const before = collectMessages(subscriber, topics.length + 1);
    for (const topic of [...topics, 'lit/7']) await publisher.publishAsync(topic, 'v1', { qos: 1 });
    expect(await before).toHaveLength(topics.length + 1);

    const ring = fleet.ring();
    // fewer virtual nodes and hashing on the first level: most topics change owner
    fleet.rewriteRing({ ...ring, version: ring.version + 1, vnodes: 16, shardKeyLevels: 1 });
    await ringVersionEverywhere(fleet, ring.version + 1);

    const after = collectMessages(subscriber, topics.length + 1);
    for (const topic of [...topics, 'lit/7']) await publisher.publishAsync(topic, 'v2', { qos: 1 });
    const received = await after;
    expect(received.map((m) => m.payload.toString())).toEqual(Array(topics.length + 1).fill('v2'));
    expect(subscriber.connected && publisher.connected).toBe(true);
    expect(disconnects).toBe(0);
  }, 60_000);

  it('keeps the current ring when the file holds an invalid document', async () => {
    const ring = fleet.ring();
    fleet.rewriteRing({ ...ring, version: ring.version + 1, shards: [] });
    await Promise.all(fleet.proxyEndpoints.map((e) => logLine(e.logFile, /invalid ring document ignored/)));
    const probe = collectMessages(subscriber, 1);
    await publisher.publishAsync('lit/7', 'still routed', { qos: 1 });
    expect((await probe)[0]?.payload.toString()).toBe('still routed');
    for (const endpoint of fleet.proxyEndpoints) {
      expect((await httpGet(`${endpoint.httpUrl}/readyz`)).status).toBe(200);
      expect((await httpGet(`${endpoint.httpUrl}/metrics`)).body).toMatch(new RegExp(`^shoal_proxy_ring_version ${ring.version}$`, 'm'));
    }
  }, 30_000);
});

// A NATS shard that stops, through a local fleet of 2 proxies and 2 shards, with MQTT.js clients: what a publisher
// is told for each QoS and protocol while the shard is down, that the other shard is unaffected, and that the
// proxies recover by themselves (reconnect, readiness, live interests) when it returns.
//
// What a client sees while the shard owning its topic is down (the proxy knows it: the NATS connection dropped):
// v5 QoS 1/2 → PUBACK/PUBREC 0x80 Unspecified error at once (0x97 Quota exceeded would blame the client's own
// quota); v3.1.1 QoS 1/2 → the connection is closed without an acknowledgement (v3 has no refusal: the client sends
// it again after reconnecting); QoS 0 → dropped and counted. A shard that hangs instead is bounded by the publish
// timeout (nats-backend.int.test.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { parseRingDocument, RoutingTable } from '@shoal/proxy/internal';
import type { Fleet } from '../src/fleet/fleet.js';
import { httpGet } from '../src/processes/child-process.js';
import { collectMessages, connectClient, startTestFleet } from './support/test-fleet.js';

/** The first `<prefix>/<n>` topic that the fleet's ring gives to `shardId`. */
function topicOn(fleet: Fleet, shardId: string, prefix: string): string {
  const table = new RoutingTable(parseRingDocument(fleet.ring()), Date.now());
  for (let i = 0; i < 10_000; i++) if (table.publishTarget(`${prefix}/${i}`).id === shardId) return `${prefix}/${i}`;
  throw new Error(`no topic under ${prefix} on ${shardId}`);
}

/** `/readyz` status of proxy `i`. */
async function readyz(fleet: Fleet, i: number): Promise<number> {
  const endpoint = fleet.proxyEndpoints[i];
  if (endpoint === undefined) throw new Error(`no proxy ${i}`);
  return (await httpGet(`${endpoint.httpUrl}/readyz`)).status;
}

/** `shoal_proxy_shard_publish_failures_total{shard,outcome}` of proxy `i`. */
async function shardFailures(fleet: Fleet, i: number, shard: string, outcome: 'failed' | 'dropped'): Promise<number> {
  const endpoint = fleet.proxyEndpoints[i];
  if (endpoint === undefined) throw new Error(`no proxy ${i}`);
  const body = (await httpGet(`${endpoint.httpUrl}/metrics`)).body;
  const line = new RegExp(`^shoal_proxy_shard_publish_failures_total\\{shard="${shard}",outcome="${outcome}"\\} (\\d+)`, 'm').exec(body);
  return Number(line?.[1] ?? 0);
}

/** Resolves once every proxy's `/readyz` answers `status`, polling every 100 ms; fails after `timeoutMs`. */
async function untilReadyz(fleet: Fleet, status: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const statuses = await Promise.all(fleet.proxyEndpoints.map((_, i) => readyz(fleet, i)));
    if (statuses.every((s) => s === status)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`/readyz ${statuses.join(',')}, not ${status}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The error code a publish was refused with, or 'ok'. */
async function outcome(publish: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await publish;
    return 'ok';
  } catch (err: unknown) {
    return (err as { code?: number }).code ?? -1;
  }
}

describe('a shard that stops, through a local fleet', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startTestFleet(2, 2);
  }, 120_000);
  afterAll(async () => fleet.stop(), 60_000);

  it('refuses QoS 1/2 to the stopped shard (v5 0x80, v3 a close), drops QoS 0, serves the other shard, and recovers', async () => {
    const down = topicOn(fleet, 'shard-1', 'sd');
    const up = topicOn(fleet, 'shard-0', 'sd');
    const subscriber = await connectClient(fleet, 1, { protocolVersion: 5, clientId: 'sd-sub' });
    await subscriber.subscribeAsync('sd/#', { qos: 1 });
    const v5 = await connectClient(fleet, 0, { protocolVersion: 5, clientId: 'sd-pub-v5' });
    const before = collectMessages(subscriber, 2, 10_000);
    await v5.publishAsync(down, 'before', { qos: 1 });
    await v5.publishAsync(up, 'before', { qos: 1 });
    expect((await before).map((m) => m.topic).sort()).toEqual([down, up].sort());
    const droppedBefore = await shardFailures(fleet, 0, 'shard-1', 'dropped');
    const failedBefore = await shardFailures(fleet, 0, 'shard-1', 'failed');

    await fleet.stopShard(1);
    const notReadyMs = await untilReadyz(fleet, 503, 10_000);
    let started = Date.now();
    expect(await outcome(v5.publishAsync(down, 'refused', { qos: 1 }))).toBe(0x80);
    expect(await outcome(v5.publishAsync(down, 'refused', { qos: 2 }))).toBe(0x80);
    const refusedMs = Date.now() - started;
    expect(refusedMs).toBeLessThan(1_000); // the proxy knows the shard is down: no wait for the 5 s publish timeout
    expect(v5.connected).toBe(true);
    await v5.publishAsync(down, 'dropped', { qos: 0 });
    const elsewhere = collectMessages(subscriber, 1, 10_000);
    await v5.publishAsync(up, 'unaffected', { qos: 1 });
    expect((await elsewhere).map((m) => [m.topic, m.payload.toString()])).toEqual([[up, 'unaffected']]);

    const v3 = await connectClient(fleet, 0, { protocolVersion: 4, clientId: 'sd-pub-v3' });
    let acknowledged = false;
    const closed = new Promise<void>((resolve) => v3.once('close', () => resolve()));
    v3.publish(down, 'refused', { qos: 1 }, (err) => (acknowledged = !err));
    await closed;
    expect(acknowledged).toBe(false);
    v3.end(true);
    expect((await shardFailures(fleet, 0, 'shard-1', 'failed')) - failedBefore).toBe(3);
    expect((await shardFailures(fleet, 0, 'shard-1', 'dropped')) - droppedBefore).toBe(1);

    started = Date.now();
    await fleet.startShard(1);
    const readyMs = await untilReadyz(fleet, 200, 20_000);
    const after = collectMessages(subscriber, 1, 10_000);
    await v5.publishAsync(down, 'after', { qos: 1 });
    expect((await after).map((m) => [m.topic, m.payload.toString()])).toEqual([[down, 'after']]);
    process.stdout.write(
      `shard down: /readyz 503 after ${notReadyMs} ms; QoS 1 + QoS 2 refused in ${refusedMs} ms; ` +
        `shard restarted: proxies ready ${readyMs} ms after startShard returned (${Date.now() - started} ms to delivery)\n`,
    );
    await Promise.all([subscriber.endAsync(), v5.endAsync()]);
  }, 90_000);

  it('a subscriber of the stopped shard gets its messages again once it returns, without resubscribing', async () => {
    const down = topicOn(fleet, 'shard-1', 'sd2');
    const subscriber: MqttClient = await connectClient(fleet, 0, { protocolVersion: 4, clientId: 'sd2-sub' });
    await subscriber.subscribeAsync(down, { qos: 1 });
    await fleet.restartShard(1);
    await untilReadyz(fleet, 200, 20_000);
    const publisher = await connectClient(fleet, 1, { protocolVersion: 4, clientId: 'sd2-pub' });
    const received = collectMessages(subscriber, 1, 10_000);
    await publisher.publishAsync(down, 'back', { qos: 1 });
    expect((await received).map((m) => m.payload.toString())).toEqual(['back']);
    await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  }, 60_000);
});

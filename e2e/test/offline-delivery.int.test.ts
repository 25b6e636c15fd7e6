// Offline delivery of persistent sessions through a local fleet (2 proxies, 3 shards, Redis): messages
// published while a session is away reach it when it comes back on the other proxy, a proxy killed with SIGKILL
// loses nothing its subscribers were owed, and offline delivery uses no JetStream consumer per session.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Fleet } from '../src/fleet/fleet.js';
import { connectClient, shardMonitor, startTestFleet } from './support/test-fleet.js';

type OnMessage = (topic: string, payload: Buffer, packet: { qos: number }) => void;

/** Connects to proxy `i` (listening for messages from the start); resolves with the client and its CONNACK. */
function connectWithConnack(
  fleet: Fleet,
  i: number,
  options: IClientOptions,
  onMessage?: OnMessage,
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const endpoint = fleet.proxyEndpoints[i];
  if (endpoint === undefined) throw new Error(`no proxy ${i}`);
  const client = mqtt.connect(endpoint.mqttUrl, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  if (onMessage !== undefined) client.on('message', onMessage);
  return new Promise((resolve, reject) => {
    client.once('connect', (connack) => resolve({ client, connack }));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** Resolves when `done()` holds after a message, or rejects after `timeoutMs` saying what `status()` was. */
function until(client: MqttClient, done: () => boolean, status: () => string, timeoutMs: number): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeListener('message', check);
      reject(new Error(`not done within ${timeoutMs} ms: ${status()}`));
    }, timeoutMs);
    const check = (): void => {
      if (!done()) return;
      clearTimeout(timer);
      client.removeListener('message', check);
      resolve();
    };
    client.on('message', check);
  });
}

/** Consumers on every shard's SHOAL_MSGS stream, from `/jsz?consumers=true`. */
async function consumersPerShard(fleet: Fleet, shards: number): Promise<number[]> {
  interface Jsz {
    readonly account_details?: { readonly stream_detail?: { readonly name: string; readonly state: { readonly consumer_count: number } }[] }[];
  }
  const counts: number[] = [];
  for (let i = 0; i < shards; i++) {
    const jsz = await shardMonitor<Jsz>(fleet, i, '/jsz?streams=true&consumers=true');
    const streams = (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
    counts.push(streams.reduce((sum, s) => sum + s.state.consumer_count, 0));
  }
  return counts;
}

const SHARDS = 3;
const OFFLINE_MESSAGES = 300;
const SESSIONS = 10_000;

describe('offline delivery through a local fleet', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startTestFleet(2, SHARDS);
  }, 120_000);
  afterAll(async () => fleet.stop(), 60_000);

  it(`a persistent session created on proxy 0 gets the ${OFFLINE_MESSAGES} QoS 1 messages published while away, on proxy 1`, async () => {
    const clientId = 'offline-300';
    const first = await connectClient(fleet, 0, { protocolVersion: 4, clientId, clean: false });
    await first.subscribeAsync('off/#', { qos: 1 });
    await first.endAsync();
    const publisher = await connectClient(fleet, 1, { protocolVersion: 5, clientId: 'offline-300-pub' });
    // ten topics, spread over the shards; MQTT orders messages per topic
    for (let i = 0; i < OFFLINE_MESSAGES; i++) await publisher.publishAsync(`off/${i % 10}`, `${i}`, { qos: 1 });
    await publisher.endAsync();
    const startMs = Date.now();
    const received: { topic: string; n: number; qos: number }[] = [];
    const { client: again, connack } = await connectWithConnack(fleet, 1, { protocolVersion: 4, clientId, clean: false }, (topic, payload, packet) =>
      received.push({ topic, n: Number(payload.toString()), qos: packet.qos }),
    );
    try {
      expect(connack.sessionPresent).toBe(true);
      await until(again, () => received.length >= OFFLINE_MESSAGES, () => `${received.length} received`, 20_000);
      const elapsedMs = Date.now() - startMs;
      expect(new Set(received.map((r) => r.n)).size).toBe(OFFLINE_MESSAGES);
      for (let topic = 0; topic < 10; topic++) {
        const order = received.filter((r) => r.topic === `off/${topic}`).map((r) => r.n);
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
      expect(received.every((r) => r.qos === 1)).toBe(true);
      process.stdout.write(`offline delivery: ${received.length}/${OFFLINE_MESSAGES} on proxy 1, session present, ${elapsedMs} ms after CONNECT\n`);
    } finally {
      await again.endAsync();
    }
  }, 60_000);

  it('a proxy killed with SIGKILL: its persistent subscriber resumes on the other proxy with nothing acknowledged lost', async () => {
    const clientId = 'sigkill-sub';
    const persistent = { protocolVersion: 5 as const, clientId, clean: false, properties: { sessionExpiryInterval: 600 } };
    const received = new Map<number, number>();
    const count = (_topic: string, payload: Buffer): void => {
      const n = Number(payload.toString());
      received.set(n, (received.get(n) ?? 0) + 1);
    };
    const first = await connectClient(fleet, 0, persistent);
    first.on('message', count);
    await first.subscribeAsync('kill/#', { qos: 1 });
    const publisher = await connectClient(fleet, 1, { protocolVersion: 5, clientId: 'sigkill-pub' });
    const acked: number[] = [];
    let sent = 0;
    const publishing = (async () => {
      while (sent < 3_000) {
        const n = sent++;
        await publisher.publishAsync(`kill/${n % 7}`, `${n}`, { qos: 1 });
        acked.push(n);
      }
    })();
    await until(first, () => received.size >= 500, () => `${received.size} received before the kill`, 20_000);
    const killedAtAck = acked.length;
    await fleet.killProxy(0, 'SIGKILL');
    first.end(true);
    const { client: again, connack } = await connectWithConnack(fleet, 1, persistent, count);
    const resumedMs = Date.now();
    try {
      expect(connack.sessionPresent).toBe(true);
      await publishing;
      const missing = (): number[] => acked.filter((n) => !received.has(n));
      await until(again, () => missing().length === 0, () => `missing ${missing().length}: ${missing().slice(0, 10).join(',')}`, 30_000);
      const duplicates = [...received.values()].reduce((sum, c) => sum + c - 1, 0);
      process.stdout.write(
        `SIGKILL: acknowledged ${acked.length} (kill after ${killedAtAck}), lost 0, duplicates ${duplicates}, all received ${Date.now() - resumedMs} ms after the resume\n`,
      );
      expect(missing()).toEqual([]);
    } finally {
      await Promise.all([again.endAsync(), publisher.endAsync()]);
      await fleet.startProxy(0);
    }
  }, 120_000);

  it(`${SESSIONS.toLocaleString('en')} persistent sessions connect, leave and come back with no JetStream consumer per session`, async () => {
    const ids = Array.from({ length: SESSIONS }, (_, i) => `many-${i}`);
    const options = (clientId: string): IClientOptions => ({ protocolVersion: 4, clientId, clean: false });
    const inBatches = async (work: (clientId: string, i: number) => Promise<void>): Promise<void> => {
      for (let start = 0; start < ids.length; start += 500) {
        await Promise.all(ids.slice(start, start + 500).map((id, k) => work(id, start + k)));
      }
    };
    await inBatches(async (id, i) => {
      const client = await connectClient(fleet, i % 2, options(id));
      await client.subscribeAsync(`many/${i}`, { qos: 1 });
      await client.endAsync();
    });
    const afterLeaving = await consumersPerShard(fleet, SHARDS);
    const publisher = await connectClient(fleet, 0, { protocolVersion: 5, clientId: 'many-pub' });
    for (let i = 0; i < SESSIONS; i += 100) await publisher.publishAsync(`many/${i}`, `for ${i}`, { qos: 1 });
    await publisher.endAsync();
    let peak = 0;
    const sampling = setInterval(() => {
      consumersPerShard(fleet, SHARDS)
        .then((counts) => (peak = Math.max(peak, ...counts)))
        .catch(() => undefined);
    }, 100);
    let delivered = 0;
    try {
      await inBatches(async (id, i) => {
        const got: string[] = [];
        const { client, connack } = await connectWithConnack(fleet, (i + 1) % 2, options(id), (_topic, payload) => got.push(payload.toString()));
        expect(connack.sessionPresent).toBe(true);
        if (i % 100 === 0) {
          await until(client, () => got.length > 0, () => `no offline message for ${id}`, 20_000);
          if (got[0] === `for ${i}`) delivered++;
        }
        await client.endAsync();
      });
    } finally {
      clearInterval(sampling);
    }
    const afterReturning = await consumersPerShard(fleet, SHARDS);
    process.stdout.write(
      `${SESSIONS} sessions: consumers per shard after leaving ${afterLeaving.join('/')}, peak while resuming ${peak}, after ${afterReturning.join('/')}; offline messages delivered ${delivered}/${SESSIONS / 100}\n`,
    );
    const bound = 2 * fleet.proxyEndpoints.length;
    expect(Math.max(...afterLeaving, ...afterReturning, peak)).toBeLessThanOrEqual(bound);
    expect(delivered).toBe(SESSIONS / 100);
  }, 300_000);
});

// A shard's connection drops and comes back: what its stream stored meanwhile (published by a proxy that was
// connected again sooner) reaches the interests of the proxy that was away, in order, before newer live messages.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NatsBackend,
  parseRingDocument,
  RoutingTable,
  ShardPool,
  type DeliveredMessage,
  type NatsLog,
  type StreamOptions,
} from '@shoal/proxy/internal';
import { httpGet } from '../src/processes/child-process.js';
import { startNatsServer, type RunningNatsServer } from '../src/processes/nats-server.js';

const STREAMS: StreamOptions = { messageMaxAgeSeconds: 3_600, messageMaxBytes: 64 * 1024 * 1024, duplicateWindowSeconds: 120, replicas: 1 };
const log: NatsLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

jest.setTimeout(30_000);

/** Polls until `check` holds (the monitor and the collector have no events to await). */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('gap repair after a shard reconnect', () => {
  let dir: string;
  let server: RunningNatsServer;
  const backends: NatsBackend[] = [];

  const start = (ports?: { port: number; httpPort: number }): Promise<RunningNatsServer> =>
    startNatsServer({ storeDir: join(dir, 'js'), serverName: 'shard-0', ...ports });
  const proxy = (id: string, reconnectTimeWaitMs: number): NatsBackend => {
    const table = new RoutingTable(parseRingDocument({ version: 1, shards: [{ id: 'shard-0', urls: [server.url] }] }), Date.now());
    const pool = new ShardPool({ proxyId: id, log, reconnectTimeWaitMs, reconnectJitterMs: 0 });
    const backend = new NatsBackend({ pool, table, proxyId: id, publishTimeoutMs: 2_000, log, streams: STREAMS });
    backends.push(backend);
    return backend;
  };
  const proxyConnected = async (id: string): Promise<boolean> => {
    const { body } = await httpGet(`${server.monitorUrl}/connz`);
    return (JSON.parse(body) as { connections: { name?: string }[] }).connections.some((c) => c.name === `shoal-proxy/${id}`);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-gap-'));
    server = await start();
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers what was stored while the proxy was away, then the live messages, in order', async () => {
    const slow = proxy('slow', 2_500); // comes back 2.5 s after the shard
    const quick = proxy('quick', 50);
    await eventually(() => slow.isReady() && quick.isReady(), 'both proxies ready');
    const received: DeliveredMessage[] = [];
    await slow.addInterest({ filter: 'gap/#' }, (m) => received.push(m));
    await quick.publish({ topic: 'gap/a', payload: Buffer.from('before'), qos: 1, retain: false });
    await eventually(() => received.length === 1, 'the first message');
    const before = slow.deliveredThrough('shard-0');

    const { port, httpPort } = server;
    await server.stop();
    server = await start({ port, httpPort });
    await eventually(() => quick.isReady(), 'the quick proxy back');
    expect(await proxyConnected('slow')).toBe(false);
    for (const payload of ['away-1', 'away-2', 'away-3']) await quick.publish({ topic: 'gap/b', payload: Buffer.from(payload), qos: 1, retain: false });
    expect(await proxyConnected('slow')).toBe(false); // stored while the slow proxy was not there to receive them live
    expect(slow.deliveredThrough('shard-0')).toBe(before);

    await eventually(() => slow.isReady(), 'the slow proxy back', 15_000);
    await quick.publish({ topic: 'gap/c', payload: Buffer.from('after'), qos: 1, retain: false });
    await eventually(() => received.length >= 5, `5 messages (got ${received.length})`);
    expect(received.map((m) => text(m.payload))).toEqual(['before', 'away-1', 'away-2', 'away-3', 'after']);
    const sequences = received.map((m) => m.sequence ?? 0);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(slow.deliveredThrough('shard-0')).toBe(sequences.at(-1));
  });
});

// NatsBackend against three (then four) real nats-server shards. Two backends play two proxies, A and B.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  BackendUnavailableError,
  ensureStreams,
  NatsBackend,
  natsNames,
  parseRingDocument,
  RoutingTable,
  ShardPool,
  type DeliveredMessage,
  type Message,
  type NatsLog,
  type RingDocumentInput,
  type ShardState,
  type StreamOptions,
  topicToSubject,
} from '@shoal/proxy/internal';
import { freePort, httpGet } from '../src/processes/child-process.js';
import { startNatsServer, type RunningNatsServer } from '../src/processes/nats-server.js';

const PUBLISH_TIMEOUT_MS = 1_000;
/** Measured figures, printed once at the end of the file. */
const figures: string[] = [];
const WAIT_MS = 10_000;
const STREAMS: StreamOptions = {
  messageMaxAgeSeconds: 3_600,
  messageMaxBytes: 64 * 1024 * 1024,
  duplicateWindowSeconds: 120,
  replicas: 1,
};

const warnings: string[] = [];
const log: NatsLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: (_fields, message) => void warnings.push(message),
  error: (_fields, message) => void warnings.push(message),
};

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Shard `shard-<i>` for each server given (holes skipped), in a ring of this version. */
function ringOf(servers: readonly (RunningNatsServer | undefined)[], version: number): RingDocumentInput {
  return {
    version,
    shards: servers.flatMap((server, i) => (server === undefined ? [] : [{ id: `shard-${i}`, urls: [server.url] }])),
  };
}

function tableOf(servers: readonly (RunningNatsServer | undefined)[], version: number): RoutingTable {
  return new RoutingTable(parseRingDocument(ringOf(servers, version)), Date.now());
}

interface Proxy {
  readonly id: string;
  readonly pool: ShardPool;
  readonly backend: NatsBackend;
}

function startProxy(id: string, table: RoutingTable): Proxy {
  const pool = new ShardPool({ proxyId: id, log, reconnectTimeWaitMs: 100, reconnectJitterMs: 50 });
  const backend = new NatsBackend({ pool, table, proxyId: id, publishTimeoutMs: PUBLISH_TIMEOUT_MS, log, streams: STREAMS });
  return { id, pool, backend };
}

/** Resolves once `check` holds, re-checking whenever `subscribe` reports a change. */
function until(subscribe: (notify: () => void) => () => void, check: () => boolean, what: string): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}`));
    }, WAIT_MS);
    const stop = subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

const ready = (proxy: Proxy): Promise<void> =>
  until((notify) => proxy.backend.onReadinessChange(notify), () => proxy.backend.isReady(), `${proxy.id} ready`);

const shardState = (proxy: Proxy, shardId: string, state: ShardState): Promise<void> =>
  until((notify) => proxy.pool.onStateChange(notify), () => proxy.pool.stateOf(shardId) === state, `${shardId} ${state}`);

/** One round trip on every connection of the proxy: SUBs sent before are in force, deliveries before have arrived. */
async function flush(proxy: Proxy): Promise<void> {
  const links = [...proxy.pool.states().keys()].flatMap((id) => proxy.pool.link(id) ?? []);
  await Promise.all(links.map((link) => link.nc.flush()));
}

interface Collector {
  readonly handler: (m: DeliveredMessage) => void;
  readonly received: DeliveredMessage[];
  /** Resolves once `check` holds for what was received (re-checked at each delivery). */
  until(check: (received: readonly DeliveredMessage[]) => boolean, what: string): Promise<void>;
  /** Resolves with the first n deliveries. */
  take(n: number): Promise<DeliveredMessage[]>;
}

/** Collects deliveries, and lets a test await them. */
function collector(): Collector {
  const received: DeliveredMessage[] = [];
  const waiters = new Set<() => void>();
  const subscribe = (notify: () => void): (() => void) => {
    waiters.add(notify);
    return () => waiters.delete(notify);
  };
  const self: Collector = {
    received,
    handler: (m) => {
      received.push(m);
      for (const waiter of [...waiters]) waiter();
    },
    until: (check, what) => until(subscribe, () => check(received), what),
    take: (n) => self.until((r) => r.length >= n, `${n} deliveries`).then(() => received.slice(0, n)),
  };
  return self;
}

function message(topic: string, payload: string, fields: Partial<Message> = {}): Message {
  return { topic, payload: bytes(payload), qos: 0, retain: false, ...fields };
}

interface Connz {
  connections: { name?: string; subscriptions_list?: string[] }[];
}
async function connz(server: RunningNatsServer): Promise<Connz> {
  const { body } = await httpGet(`${server.monitorUrl}/connz?subs=1&limit=1024`);
  return JSON.parse(body) as Connz;
}
/** Polls a server-side view (the monitor has no events) until `check` passes. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const proxyConnections = async (server: RunningNatsServer, proxyId: string): Promise<Connz['connections']> =>
  (await connz(server)).connections.filter((c) => c.name === natsNames.connectionName(proxyId));

/** A topic with this prefix owned by `shardId` in `table` (and, optionally, not owned by `notIn` in another). */
function topicOwnedBy(table: RoutingTable, shardId: string, prefix: string, notIn?: { table: RoutingTable; shardId: string }): string {
  for (let i = 0; i < 100_000; i++) {
    const topic = `${prefix}/${i}`;
    if (table.publishTarget(topic).id !== shardId) continue;
    if (notIn !== undefined && notIn.table.publishTarget(topic).id === notIn.shardId) continue;
    return topic;
  }
  throw new Error(`no topic under ${prefix} on ${shardId}`);
}

jest.setTimeout(30_000);

describe('NatsBackend on real nats-server shards', () => {
  let dir: string;
  const servers: RunningNatsServer[] = [];
  let table: RoutingTable;
  let a: Proxy;
  let b: Proxy;
  const proxies: Proxy[] = [];
  const inspectors: NatsConnection[] = [];

  const storeDir = (i: number): string => join(dir, `shard-${i}`, 'js');
  const startShard = (i: number, port?: number, httpPort?: number): Promise<RunningNatsServer> =>
    startNatsServer({
      storeDir: storeDir(i),
      serverName: `shard-${i}`,
      ...(port === undefined ? {} : { port }),
      ...(httpPort === undefined ? {} : { httpPort }),
    });
  async function inspect(server: RunningNatsServer): Promise<NatsConnection> {
    const nc = await connect({ servers: server.url, name: 'test-inspector' });
    inspectors.push(nc);
    return nc;
  }
  async function storedCount(shardIndex: number, subjectFilter: string): Promise<number> {
    const jsm = await jetstreamManager(await inspect(servers[shardIndex]!));
    const info = await jsm.streams.info(natsNames.MESSAGES_STREAM, { subjects_filter: subjectFilter });
    return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  }
  const shardIndex = (topic: string, t: RoutingTable = table): number => Number(t.publishTarget(topic).id.slice('shard-'.length));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-nats-backend-'));
    servers.push(...(await Promise.all([0, 1, 2].map((i) => startShard(i)))));
    table = tableOf(servers, 1);
    // Two proxies start at the same moment and both ensure the streams on every shard.
    a = startProxy('proxy-a', table);
    b = startProxy('proxy-b', table);
    proxies.push(a, b);
    await Promise.all([ready(a), ready(b)]);
  });

  afterAll(async () => {
    await Promise.all(inspectors.map((nc) => nc.close()));
    await Promise.all(proxies.map((proxy) => proxy.backend.close()));
    await Promise.all(servers.map((server) => server.stop()));
    await rm(dir, { recursive: true, force: true });
    // eslint-disable-next-line no-console -- the figures are this test's report
    if (figures.length > 0) console.info(figures.join('\n'));
  });

  it('creates both streams on every shard, idempotently, when two proxies ensure them at once', async () => {
    for (const server of servers) {
      const jsm = await jetstreamManager(await inspect(server));
      const msgs = await jsm.streams.info(natsNames.MESSAGES_STREAM);
      expect(msgs.config).toMatchObject({
        subjects: ['$SHOAL.msgs.>'],
        storage: 'file',
        retention: 'limits',
        max_bytes: STREAMS.messageMaxBytes,
        max_age: STREAMS.messageMaxAgeSeconds * 1e9,
        duplicate_window: STREAMS.duplicateWindowSeconds * 1e9,
        allow_direct: true,
        republish: { src: '$SHOAL.msgs.>', dest: 'mqtt.>' },
      });
      const retained = await jsm.streams.info(natsNames.RETAINED_STREAM);
      expect(retained.config).toMatchObject({
        subjects: ['$SHOAL.retained.>'],
        storage: 'file',
        max_msgs_per_subject: 1,
        allow_direct: true,
        discard: 'old',
      });
      // Again, concurrently, with a changed retention: both calls succeed and the stream is updated.
      const changed = { ...STREAMS, messageMaxAgeSeconds: 7_200 };
      await Promise.all([ensureStreams(jsm, changed), ensureStreams(jsm, changed)]);
      expect((await jsm.streams.info(natsNames.MESSAGES_STREAM)).config.max_age).toBe(7_200 * 1e9);
      await ensureStreams(jsm, STREAMS);
    }
  });

  it('publishes QoS 0 to the owning shard and delivers it to an interest of another proxy', async () => {
    const got = collector();
    await b.backend.addInterest({ filter: 'q0/+/temp' }, got.handler);
    await flush(b);
    const topics = ['q0/1/temp', 'q0/2/temp', 'q0/3/temp', 'q0/4/temp'];
    for (const topic of topics) await a.backend.publish(message(topic, `t=${topic}`, { originClientId: 'dev-1' }));
    const delivered = await got.take(topics.length);
    expect(delivered.map((m) => m.topic).sort()).toEqual(topics);
    for (const m of delivered) {
      expect(m).toMatchObject({ qos: 0, retain: false, originClientId: 'dev-1', shardId: table.publishTarget(m.topic).id });
      expect(m.sequence).toBeUndefined();
      expect(text(m.payload)).toBe(`t=${m.topic}`);
    }
    b.backend.removeInterest({ filter: 'q0/+/temp' });
  });

  it('stores QoS 1 on the owning shard and delivers it with its stream sequence', async () => {
    const got = collector();
    await b.backend.addInterest({ filter: 'q1/#' }, got.handler);
    await flush(b);
    const topic = 'q1/dev/7';
    const properties = { contentType: 'text/plain', correlationData: new Uint8Array([1, 2, 3]), userProperties: { k: ['1', '2'] } };
    await a.backend.publish(message(topic, 'stored', { qos: 1, properties }), { messageId: 'q1-1' });
    const [m] = await got.take(1);
    expect(m).toMatchObject({ topic, qos: 1, shardId: table.publishTarget(topic).id, properties });
    expect(m!.sequence).toEqual(expect.any(Number));
    const jsm = await jetstreamManager(await inspect(servers[shardIndex(topic)]!));
    const stored = await jsm.streams.getMessage(natsNames.MESSAGES_STREAM, { seq: m!.sequence! });
    expect(stored?.subject).toBe(`$SHOAL.msgs.${topicToSubject(topic)}`);
    b.backend.removeInterest({ filter: 'q1/#' });
  });

  it('measures QoS 1 publish latency (sequential, acknowledged)', async () => {
    const samples: number[] = [];
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      await a.backend.publish(message(`lat/${i % 30}`, 'x'.repeat(100), { qos: 1 }));
      samples.push(performance.now() - started);
    }
    samples.sort((x, y) => x - y);
    const pct = (p: number): string => samples[Math.floor((samples.length - 1) * p)]!.toFixed(2);
    figures.push(`QoS 1 publish latency over ${samples.length}: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms`);
    expect(samples[Math.floor(samples.length / 2)]).toBeLessThan(PUBLISH_TIMEOUT_MS);
  });

  it('matches the parent level with # and keeps $ topics from leading wildcards [MQTT-4.7.2-1]', async () => {
    const parent = collector();
    const all = collector();
    const dollar = collector();
    await b.backend.addInterest({ filter: 'home/#' }, parent.handler);
    await b.backend.addInterest({ filter: '#' }, all.handler);
    await b.backend.addInterest({ filter: '$SYS/#' }, dollar.handler);
    await flush(b);
    for (const topic of ['home', 'home/x/y', 'homer', '$SYS/x', 'home/last']) await a.backend.publish(message(topic, topic));
    await parent.take(3);
    await dollar.take(1);
    await flush(a);
    await flush(b);
    // Different topics may live on different shards: no order across them.
    expect(parent.received.map((m) => m.topic).sort()).toEqual(['home', 'home/last', 'home/x/y']);
    expect(dollar.received.map((m) => m.topic)).toEqual(['$SYS/x']);
    expect(all.received.map((m) => m.topic)).toEqual(expect.arrayContaining(['home', 'homer', 'home/last']));
    expect(all.received.some((m) => m.topic.startsWith('$'))).toBe(false);
    for (const filter of ['home/#', '#', '$SYS/#']) b.backend.removeInterest({ filter });
  });

  it('holds exactly one NATS connection per shard per proxy', async () => {
    for (const server of servers) {
      expect(await proxyConnections(server, a.id)).toHaveLength(1);
      expect(await proxyConnections(server, b.id)).toHaveLength(1);
    }
  });

  it('delivers each message of a shared group once in total across proxies', async () => {
    const both = collector();
    const byProxy = new Map<DeliveredMessage, string>();
    const key = { filter: 'jobs/+', shareGroup: 'workers' };
    for (const proxy of [a, b]) {
      await proxy.backend.addInterest(key, (m) => {
        byProxy.set(m, proxy.id);
        both.handler(m);
      });
    }
    // The same group on another filter is another shared subscription: it gets its own copy.
    const other = collector();
    await a.backend.addInterest({ filter: 'jobs/#', shareGroup: 'workers' }, other.handler);
    await Promise.all([flush(a), flush(b)]);
    const count = 60;
    for (let i = 0; i < count; i++) await a.backend.publish(message(`jobs/${i}`, String(i), { qos: i % 2 === 0 ? 0 : 1 }));
    await both.take(count);
    await other.take(count);
    await Promise.all([flush(a), flush(b)]);
    const topics = both.received.map((m) => m.topic);
    expect(topics).toHaveLength(count);
    expect(new Set(topics).size).toBe(count);
    expect(other.received).toHaveLength(count);
    const fromA = [...byProxy.values()].filter((id) => id === a.id).length;
    figures.push(`shared group split: proxy-a ${fromA}, proxy-b ${count - fromA}`);
    a.backend.removeInterest({ filter: 'jobs/#', shareGroup: 'workers' });
    a.backend.removeInterest(key);
    b.backend.removeInterest(key);
  });

  it('stores, reads (literal and wildcard across shards) and deletes retained messages', async () => {
    const topics = Array.from({ length: 10 }, (_, i) => `ret/${i}/state`);
    expect(new Set(topics.map((t) => table.publishTarget(t).id)).size).toBeGreaterThan(1);
    for (const topic of topics) {
      await a.backend.publish(message(topic, `v-${topic}`, { qos: 1, retain: true, properties: { userProperties: { u: 'p' } } }));
    }
    await a.backend.publish(message('ret/q0/state', 'q0', { retain: true }));
    await a.backend.publish(message('$ret/state', 'dollar', { qos: 1, retain: true }));
    await a.backend.publish(
      message('ret/3/state', 'v2-ret/3/state', { qos: 1, retain: true, properties: { userProperties: { u: 'p' } } }),
    );

    const literal = await b.backend.readRetained('ret/3/state');
    expect(literal).toHaveLength(1);
    expect(literal[0]).toMatchObject({ topic: 'ret/3/state', retain: true, qos: 1, properties: { userProperties: { u: 'p' } } });
    expect(text(literal[0]!.payload)).toBe('v2-ret/3/state');

    const wildcard = await b.backend.readRetained('ret/+/state');
    expect(wildcard.map((m) => m.topic).sort()).toEqual([...topics, 'ret/q0/state'].sort());
    expect(wildcard.find((m) => m.topic === 'ret/q0/state')).toMatchObject({ qos: 0, retain: true });
    expect((await b.backend.readRetained('+/state')).map((m) => m.topic)).toEqual([]);
    expect((await b.backend.readRetained('$ret/state')).map((m) => m.topic)).toEqual(['$ret/state']);
    expect((await b.backend.readRetained('#')).some((m) => m.topic.startsWith('$'))).toBe(false);
    expect((await b.backend.readRetained('ret/#')).length).toBe(11);

    // An empty retained payload deletes (QoS 1 and QoS 0), and is still delivered live.
    const live = collector();
    await b.backend.addInterest({ filter: 'ret/3/state' }, live.handler);
    await flush(b);
    await a.backend.publish(message('ret/3/state', '', { qos: 1, retain: true }));
    await a.backend.publish(message('ret/q0/state', '', { retain: true }));
    expect(await b.backend.readRetained('ret/3/state')).toEqual([]);
    expect((await b.backend.readRetained('ret/+/state')).map((m) => m.topic).sort()).toEqual(
      topics.filter((t) => t !== 'ret/3/state').sort(),
    );
    const [deletion] = await live.take(1);
    expect(deletion).toMatchObject({ topic: 'ret/3/state', retain: true });
    expect(deletion!.payload).toHaveLength(0);
    b.backend.removeInterest({ filter: 'ret/3/state' });
    const jsm = await jetstreamManager(await inspect(servers[shardIndex('ret/3/state')]!));
    const info = await jsm.streams.info(natsNames.RETAINED_STREAM, { subjects_filter: '$SHOAL.retained.ret.3.state' });
    expect(info.state.subjects ?? {}).toEqual({});
  });

  it('stores a message published twice with the same id once', async () => {
    const got = collector();
    await b.backend.addInterest({ filter: 'dedup/1' }, got.handler);
    await flush(b);
    const m = message('dedup/1', 'once', { qos: 1 });
    await a.backend.publish(m, { messageId: 'dedup-id-1' });
    await a.backend.publish(m, { messageId: 'dedup-id-1' });
    await b.backend.publish(m, { messageId: 'dedup-id-1' }); // another proxy, same id
    await got.take(1);
    await flush(b);
    expect(got.received).toHaveLength(1);
    expect(await storedCount(shardIndex('dedup/1'), '$SHOAL.msgs.dedup.>')).toBe(1);
    b.backend.removeInterest({ filter: 'dedup/1' });
  });

  it('rejects publishes to a stopped or frozen shard within the timeout and recovers when it restarts', async () => {
    const topic = topicOwnedBy(table, 'shard-1', 'fault');
    const got = collector();
    await b.backend.addInterest({ filter: 'fault/#' }, got.handler);
    await flush(b);
    await a.backend.publish(message(topic, 'retained-before', { qos: 1, retain: true }));

    // Frozen: the connection looks fine, the acknowledgement never comes.
    servers[1]!.kill('SIGSTOP');
    // The signal is delivered asynchronously; wait until the kernel reports the process stopped.
    await eventually(async () => (await readFile(`/proc/${servers[1]!.pid}/stat`, 'utf8')).split(' ')[2], (s) => s === 'T', 'stopped');
    let started = performance.now();
    const frozen = await a.backend.publish(message(topic, 'frozen', { qos: 1 })).catch((error: unknown) => error);
    let elapsed = performance.now() - started;
    servers[1]!.kill('SIGCONT');
    expect(frozen).toBeInstanceOf(BackendUnavailableError);
    expect(elapsed).toBeGreaterThanOrEqual(PUBLISH_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(PUBLISH_TIMEOUT_MS + 500);
    figures.push(`frozen shard: QoS 1 publish rejected after ${elapsed.toFixed(0)} ms`);

    // Stopped: the proxy knows the shard is down and fails fast.
    const { port, httpPort } = servers[1]!;
    await servers[1]!.stop();
    await Promise.all([shardState(a, 'shard-1', 'reconnecting'), shardState(b, 'shard-1', 'reconnecting')]);
    expect(a.backend.isReady()).toBe(false);
    started = performance.now();
    await expect(a.backend.publish(message(topic, 'down', { qos: 1 }))).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(a.backend.publish(message(topic, 'down', { retain: true }))).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(b.backend.readRetained(topic)).rejects.toBeInstanceOf(BackendUnavailableError);
    elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(PUBLISH_TIMEOUT_MS);
    await a.backend.publish(message(topic, 'qos0 dropped')); // QoS 0 to a down shard is dropped, not an error
    // Other shards keep working.
    await a.backend.publish(message(topicOwnedBy(table, 'shard-0', 'fault'), 'elsewhere', { qos: 1 }));

    servers[1] = await startShard(1, port, httpPort);
    started = performance.now();
    await Promise.all([ready(a), ready(b)]);
    figures.push(`restarted shard: proxies ready again ${(performance.now() - started).toFixed(0)} ms after it was`);
    await flush(b);
    await a.backend.publish(message(topic, 'after', { qos: 1 }));
    await got.until((r) => r.some((m) => text(m.payload) === 'after'), 'delivery after restart');
    expect(got.received.find((m) => text(m.payload) === 'after')?.shardId).toBe('shard-1');
    const retained = await b.backend.readRetained(topic);
    expect(retained.map((m) => text(m.payload))).toEqual(['retained-before']);
    b.backend.removeInterest({ filter: 'fault/#' });
  });

  it('moves subscriptions when applyRing adds a fourth shard', async () => {
    servers.push(await startShard(3));
    const next = tableOf(servers, 2);
    const moved = topicOwnedBy(next, 'shard-3', 'move', { table, shardId: 'shard-3' });
    const oldOwner = servers[shardIndex(moved)]!;
    const literal = collector();
    const wildcard = collector();
    await b.backend.addInterest({ filter: moved }, literal.handler);
    await b.backend.addInterest({ filter: 'move/+' }, wildcard.handler);
    await flush(b);
    const movedSubject = `mqtt.${topicToSubject(moved)}`;
    const subjectsOf = async (server: RunningNatsServer): Promise<string[]> =>
      (await proxyConnections(server, b.id)).flatMap((c) => c.subscriptions_list ?? []);
    expect(await subjectsOf(oldOwner)).toContain(movedSubject);

    await Promise.all([a.backend.applyRing(next), b.backend.applyRing(next)]);
    await Promise.all([ready(a), ready(b)]);
    await flush(b);
    table = next;

    expect(await subjectsOf(oldOwner)).not.toContain(movedSubject);
    expect(await subjectsOf(servers[3]!)).toEqual(expect.arrayContaining([movedSubject, 'mqtt.move.*']));
    for (const server of servers) {
      expect(await proxyConnections(server, a.id)).toHaveLength(1);
      expect(await proxyConnections(server, b.id)).toHaveLength(1);
    }
    await a.backend.publish(message(moved, 'on the new owner', { qos: 1 }));
    const [m] = await literal.take(1);
    expect(m).toMatchObject({ topic: moved, shardId: 'shard-3' });
    expect(m!.sequence).toBe(1);
    expect((await wildcard.take(1))[0]).toMatchObject({ topic: moved, shardId: 'shard-3' });
  });

  it('during a ring transition listens on both owners, and closes a removed shard afterwards', async () => {
    const withoutZero = [undefined, ...servers.slice(1)];
    const transition = new RoutingTable(
      parseRingDocument({
        ...ringOf(withoutZero, 3),
        previous: ringOf(servers, 2),
        transitionUntil: new Date(Date.now() + 3_600_000).toISOString(),
      }),
      Date.now(),
    );
    expect(transition.inTransition).toBe(true);
    const topic = topicOwnedBy(table, 'shard-0', 'transit');
    const newOwner = transition.publishTarget(topic).id;
    const got = collector();
    await b.backend.addInterest({ filter: topic }, got.handler);
    await Promise.all([a.backend.applyRing(transition), b.backend.applyRing(transition)]);
    await Promise.all([ready(a), ready(b)]);
    await flush(b);
    const subject = `mqtt.${topicToSubject(topic)}`;
    const subjectsOf = async (server: RunningNatsServer): Promise<string[]> =>
      (await proxyConnections(server, b.id)).flatMap((c) => c.subscriptions_list ?? []);
    expect(await subjectsOf(servers[0]!)).toContain(subject);
    expect(await subjectsOf(servers[Number(newOwner.slice('shard-'.length))]!)).toContain(subject);
    await a.backend.publish(message(topic, 'to the new owner', { qos: 1 }));
    expect((await got.take(1))[0]?.shardId).toBe(newOwner);

    const after = tableOf(withoutZero, 4);
    await Promise.all([a.backend.applyRing(after), b.backend.applyRing(after)]);
    expect(a.pool.stateOf('shard-0')).toBeUndefined();
    // The server notices the closed sockets a moment after the client closed them.
    for (const proxy of [a, b]) {
      await eventually(() => proxyConnections(servers[0]!, proxy.id), (c) => c.length === 0, `${proxy.id} gone from shard-0`);
    }
    expect(a.backend.isReady()).toBe(true);
    b.backend.removeInterest({ filter: topic });
    table = after;
  });

  it('connects a proxy started before its shard as soon as the shard comes up', async () => {
    const [port, httpPort] = await Promise.all([freePort(), freePort()]);
    const ring = parseRingDocument({ version: 1, shards: [{ id: 'late', urls: [`nats://127.0.0.1:${port}`] }] });
    const late = startProxy('proxy-late', new RoutingTable(ring, Date.now()));
    try {
      expect(late.pool.stateOf('late')).toBe('connecting');
      expect(late.backend.isReady()).toBe(false);
      await expect(late.backend.publish(message('x', 'y', { qos: 1 }))).rejects.toBeInstanceOf(BackendUnavailableError);
      const got = collector();
      await late.backend.addInterest({ filter: 'late/#' }, got.handler);
      const server = await startNatsServer({ storeDir: join(dir, 'late', 'js'), serverName: 'late', port, httpPort });
      servers.push(server);
      await ready(late);
      await flush(late);
      await late.backend.publish(message('late/1', 'hello', { qos: 1 }));
      expect((await got.take(1))[0]).toMatchObject({ topic: 'late/1', shardId: 'late', sequence: 1 });
    } finally {
      await late.backend.close();
    }
    expect(late.pool.stateOf('late')).toBeUndefined();
  });
});

// StoredPublisher (QoS ≥ 1 publishes with one ack subscription per connection) against a real nats-server.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { ensureStreams, headerBlockOf, natsNames, StoredPublisher } from '@shoal/proxy/internal';
import { startNatsServer, type RunningNatsServer } from '../src/processes/nats-server.js';

const TIMEOUT_MS = 500;
const STREAMS = { messageMaxAgeSeconds: 3_600, messageMaxBytes: 64 * 1024 * 1024, duplicateWindowSeconds: 120, replicas: 1 };
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const none = headerBlockOf([]);

jest.setTimeout(30_000);

describe.each([
  ['frames written directly (nats-wire.ts)', false],
  ['the public nats.js API', true],
])('StoredPublisher on a real nats-server, %s', (_mode, publicApi) => {
  let dir: string;
  let server: RunningNatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: StoredPublisher;

  const storedCount = async (filter: string): Promise<number> => {
    const info = await jsm.streams.info(natsNames.MESSAGES_STREAM, { subjects_filter: filter });
    return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-stored-publisher-'));
    server = await startNatsServer({ storeDir: join(dir, 'js'), serverName: `stored-publisher-${String(publicApi)}` });
    nc = await connect({ servers: server.url, name: 'stored-publisher-test' });
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, STREAMS);
    await jsm.streams.add({ name: 'OTHER', subjects: ['other.>'] });
    publisher = new StoredPublisher({ nc, stream: natsNames.MESSAGES_STREAM, timeoutMs: TIMEOUT_MS, publicApi });
    expect(publisher.fast).toBe(!publicApi);
  });

  afterAll(async () => {
    publisher.close();
    await nc.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves each publish with its own stream sequence, and stores every message with its headers', async () => {
    const n = 2_000;
    const acks = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        return publisher.publish(`$SHOAL.msgs.many.${i % 7}`, bytes(`m${i}`), headerBlockOf([['Shoal-Qos', '1']]));
      }),
    );
    expect(new Set(acks.map((a) => a.seq)).size).toBe(n);
    expect(acks.every((a) => a.stream === natsNames.MESSAGES_STREAM && !a.duplicate)).toBe(true);
    expect(await storedCount('$SHOAL.msgs.many.>')).toBe(n);
    const last = acks[n - 1]!;
    const stored = await jsm.streams.getMessage(natsNames.MESSAGES_STREAM, { seq: last.seq });
    expect(stored?.subject).toBe(`$SHOAL.msgs.many.${(n - 1) % 7}`);
    expect(stored?.header.get('Shoal-Qos')).toBe('1');
    expect(publisher.inFlight).toBe(0);
  });

  it('de-duplicates on the message id: the second publish is acknowledged as a duplicate, stored once', async () => {
    const first = await publisher.publish('$SHOAL.msgs.dedup.a', bytes('x'), headerBlockOf([['Nats-Msg-Id', 'id-1']]));
    const second = await publisher.publish('$SHOAL.msgs.dedup.a', bytes('x'), headerBlockOf([['Nats-Msg-Id', 'id-1']]));
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ stream: natsNames.MESSAGES_STREAM, seq: first.seq, duplicate: true });
    expect(await storedCount('$SHOAL.msgs.dedup.>')).toBe(1);
  });

  it('rejects a message another stream stored, naming that stream', async () => {
    await expect(publisher.publish('other.x', bytes('x'), none)).rejects.toThrow('stored by stream OTHER, not SHOAL_MSGS');
  });

  it('rejects at once when no stream stores the subject (no responders)', async () => {
    const started = performance.now();
    await expect(publisher.publish('nowhere.x', bytes('x'), none)).rejects.toThrow('no responders');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
  });

  it('rejects a JetStream error reply (wrong expected stream) with its description', async () => {
    const h = headerBlockOf([['Nats-Expected-Stream', 'NOT_THIS_ONE']]);
    await expect(publisher.publish('$SHOAL.msgs.err.x', bytes('x'), h)).rejects.toThrow(/JetStream error 400\/10060/);
  });

  it('times out within the timeout when nobody acknowledges, and keeps working', async () => {
    const silent = nc.subscribe('silent.>', { callback: () => undefined }); // a responder that never answers
    await nc.flush();
    const started = performance.now();
    const outcomes = await Promise.allSettled([
      publisher.publish('silent.a', bytes('x'), none),
      publisher.publish('silent.b', bytes('x'), none),
    ]);
    const elapsed = performance.now() - started;
    silent.unsubscribe();
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'resolved'))).toEqual([
      `no acknowledgement within ${TIMEOUT_MS} ms`,
      `no acknowledgement within ${TIMEOUT_MS} ms`,
    ]);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 200);
    expect(publisher.inFlight).toBe(0);
    // Still works afterwards.
    await expect(publisher.publish('$SHOAL.msgs.after', bytes('x'), none)).resolves.toMatchObject({ duplicate: false });
  });

  it('rejects what is pending when the connection closes, and every later publish at once', async () => {
    const own = await connect({ servers: server.url, name: 'stored-publisher-closing' });
    const closing = new StoredPublisher({ nc: own, stream: natsNames.MESSAGES_STREAM, timeoutMs: 10_000, publicApi });
    const silent = own.subscribe('silent2.>', { callback: () => undefined });
    await own.flush();
    const pending = closing.publish('silent2.a', bytes('x'), none);
    await own.close();
    await expect(pending).rejects.toThrow('the shard connection closed');
    expect(closing.closed).toBe(true);
    await expect(closing.publish('$SHOAL.msgs.x', bytes('x'), none)).rejects.toThrow('the shard connection closed');
    expect(silent.isClosed()).toBe(true);
  });
});

// NatsWire (nats-wire.ts) against a real nats-server: frames written directly and frames written through the
// public nats.js API must reach a plain nats.js subscriber identically, and a delivered message's raw header
// block must decode as its MsgHdrs does.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { decodeDelivered, headerBlockText, NatsWire, type HeaderBlock, type Message } from '@shoal/proxy/internal';
import { startNatsServer, type RunningNatsServer } from '../src/processes/nats-server.js';

jest.setTimeout(30_000);

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** What a plain subscriber sees of a message. */
interface Seen {
  subject: string;
  reply: string;
  headers: Record<string, string[]> | undefined;
  data: number[];
}

const seen = (msg: Msg): Seen => ({
  subject: msg.subject,
  reply: msg.reply ?? '',
  headers: msg.headers === undefined ? undefined : Object.fromEntries([...msg.headers].map(([k, v]) => [k, [...v]])),
  data: [...msg.data],
});

const messages: [string, Uint8Array, HeaderBlock | undefined, string | undefined][] = [
  ['mqtt.plain', bytes('no headers'), undefined, undefined],
  ['mqtt.with.reply', bytes(''), undefined, '_INBOX.x.1'],
  [
    'mqtt.a.b',
    new Uint8Array([0, 0xff, 0x0d, 0x0a]),
    headerBlockText({ topic: 'a/b', payload: bytes(''), qos: 1, retain: false, originClientId: 'dev ü 1' }, 'proxy-0.1'),
    '_INBOX.y.22',
  ],
  [
    'mqtt.ü.utf8',
    bytes('ü'),
    headerBlockText({
      topic: 'ü/utf8',
      payload: bytes(''),
      qos: 0,
      retain: true,
      expiresAtMs: 1_800_000_000_000,
      properties: { userProperties: { k: ['1', '2'] }, contentType: 'text/plain', correlationData: bytes('c') },
    }),
    undefined,
  ],
];

describe('NatsWire on a real nats-server', () => {
  let dir: string;
  let server: RunningNatsServer;
  let publisher: NatsConnection;
  let subscriber: NatsConnection;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-nats-wire-'));
    server = await startNatsServer({ storeDir: join(dir, 'js'), serverName: 'nats-wire' });
    publisher = await connect({ servers: server.url, name: 'nats-wire-publisher' });
    subscriber = await connect({ servers: server.url, name: 'nats-wire-subscriber' });
  });

  afterAll(async () => {
    await publisher.close();
    await subscriber.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Subscribes to `subject` (registered once this resolves); `all` resolves with the first `count` messages. */
  async function collect(subject: string, count: number): Promise<{ all: Promise<Msg[]> }> {
    const received: Msg[] = [];
    const all = new Promise<Msg[]>((resolve) => {
      const sub = subscriber.subscribe(subject, {
        callback: (_error, msg) => {
          received.push(msg);
          if (received.length < count) return;
          sub.unsubscribe();
          resolve(received);
        },
      });
    });
    await subscriber.flush();
    return { all };
  }

  /** Publishes every message through `wire`; resolves with what a plain subscriber received, in order. */
  async function through(wire: NatsWire): Promise<Msg[]> {
    const { all } = await collect('mqtt.>', messages.length);
    for (const [subject, payload, block, reply] of messages) wire.publish(subject, payload, block, reply);
    return all;
  }

  it('looks at the internals of nats.js 3.4.0 and uses them, unless told to use the public API', () => {
    expect(new NatsWire(publisher).fast).toBe(true);
    expect(new NatsWire(publisher, { publicApi: true }).fast).toBe(false);
  });

  it('delivers the same subject, reply, headers and payload on both paths', async () => {
    const before = publisher.stats().outMsgs;
    const fast = (await through(new NatsWire(publisher))).map(seen);
    expect(publisher.stats().outMsgs - before).toBe(messages.length);
    const slow = (await through(new NatsWire(publisher, { publicApi: true }))).map(seen);
    expect(fast).toEqual(slow);
    expect(fast.map((m) => m.subject)).toEqual(messages.map(([subject]) => subject));
    expect(fast[2]?.headers).toEqual({ 'Shoal-Qos': ['1'], 'Shoal-Origin': ['dev%20%C3%BC%201'], 'Nats-Msg-Id': ['proxy-0.1'] });
  });

  it('hands a delivered message its raw header block, which decodes as its MsgHdrs does', async () => {
    const received = await through(new NatsWire(publisher));
    const reader = new NatsWire(subscriber);
    const fallback = new NatsWire(subscriber, { publicApi: true });
    for (const msg of received) {
      const raw = reader.headersOf(msg);
      expect(raw === undefined || raw instanceof Uint8Array).toBe(true);
      expect(decodeDelivered('t', msg.data, raw, 's')).toEqual(decodeDelivered('t', msg.data, fallback.headersOf(msg), 's'));
    }
    const decoded: Message = decodeDelivered('t', received[3]?.data ?? bytes(''), reader.headersOf(received[3] as Msg), 's');
    expect(decoded).toMatchObject({ qos: 0, retain: true, expiresAtMs: 1_800_000_000_000, properties: { userProperties: { k: ['1', '2'] } } });
  });

  it('reads the token of a reply subject from its bytes, as from its string', async () => {
    const { all } = await collect('_R_.abc.*', 1);
    publisher.publish('_R_.abc.90071992547', bytes('x'));
    const [msg] = await all;
    if (msg === undefined) throw new Error('no message');
    expect(new NatsWire(subscriber).tokenAfter(msg, '_R_.abc.')).toBe(90_071_992_547);
    expect(new NatsWire(subscriber, { publicApi: true }).tokenAfter(msg, '_R_.abc.')).toBe(90_071_992_547);
    expect(new NatsWire(subscriber).tokenAfter(msg, '_R_.abc.9')).toBe(71_992_547);
  });

  it('carries many frames across slabs and batches, and a frame larger than a slab, intact and in order', async () => {
    const sizes = [...Array.from({ length: 600 }, (_, i) => 700 + (i % 13)), 150_000, 3, 70_000, ...Array.from({ length: 200 }, () => 40)];
    const block = headerBlockText({ topic: 'big', payload: bytes(''), qos: 1, retain: false, originClientId: 'big-1' });
    const { all } = await collect('mqtt.big.*', sizes.length);
    const wire = new NatsWire(publisher);
    sizes.forEach((size, i) => wire.publish(`mqtt.big.${i}`, new Uint8Array(size).fill(i % 251), i % 2 === 0 ? block : undefined));
    const received = await all;
    expect(received.map((m) => m.subject)).toEqual(sizes.map((_, i) => `mqtt.big.${i}`));
    received.forEach((msg, i) => {
      expect(msg.data.length).toBe(sizes[i]);
      expect(msg.data.every((b) => b === i % 251)).toBe(true);
      expect(msg.headers?.get('Shoal-Origin') ?? '').toBe(i % 2 === 0 ? 'big-1' : '');
    });
  });

  it('refuses a message over the server max_payload (8 MiB here), on both paths, and keeps working', () => {
    const tooBig = new Uint8Array(9 * 1024 * 1024);
    expect(() => new NatsWire(publisher).publish('mqtt.x', tooBig, undefined)).toThrow('max_payload');
    expect(() => new NatsWire(publisher, { publicApi: true }).publish('mqtt.x', tooBig, undefined)).toThrow();
    expect(publisher.isClosed()).toBe(false);
  });

  it('refuses to publish on a closed connection, on both paths', async () => {
    const own = await connect({ servers: server.url, name: 'nats-wire-closed' });
    await own.close();
    expect(() => new NatsWire(own).publish('mqtt.x', bytes('x'), undefined)).toThrow('closed');
    expect(() => new NatsWire(own, { publicApi: true }).publish('mqtt.x', bytes('x'), undefined)).toThrow();
  });
});

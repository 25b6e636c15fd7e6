import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type mqtt from 'mqtt-packet';
import { ProtocolHarness, type TestClient } from '../../test-support/protocol-harness.js';
import { ReasonCode } from '../reason-codes.js';

let harness: ProtocolHarness;
afterEach(async () => harness.close());

function connected(version: 4 | 5, clientId: string, connect: Partial<mqtt.IConnectPacket> = {}): Promise<TestClient> {
  return harness.connected(version, clientId, connect);
}

async function watcher(filter = 'will/#'): Promise<TestClient> {
  const client = await connected(5, 'watcher');
  await client.subscribe([{ topic: filter, qos: 1 }]);
  return client;
}

/** Publishes a QoS 0 marker on `will/marker` and expects it as `watcher`'s next delivery: nothing came before it. */
async function expectNothingBefore(watching: TestClient): Promise<void> {
  const marker = await connected(5, 'marker');
  marker.publish('will/marker', 'marker');
  expect((await watching.expect('publish')).topic).toBe('will/marker');
}

type WillFields = NonNullable<mqtt.IConnectPacket['will']>;
const will = (fields: Partial<WillFields> = {}): WillFields => ({
  topic: 'will/dev',
  payload: Buffer.from('gone'),
  qos: 1,
  retain: false,
  ...fields,
});

/** Moves the harness clock and jest's fake timers together, in small steps. */
function elapse(ms: number, step = 500): void {
  for (let done = 0; done < ms; done += step) {
    harness.clock.advance(step);
    jest.advanceTimersByTime(step);
  }
}

/** Fake timers for the proxy's timeouts; the in-memory streams still need the real nextTick and setImmediate. */
function useFakeTimers(): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
}

describe('Session state', () => {
  it.each([4, 5] as const)('v%i: discards the session on Clean Start 1: Session Present 0 and no subscriptions [MQTT-3.1.2-4] [MQTT-3.2.2-2]', async (version) => {
    harness = new ProtocolHarness();
    const persistent = { clean: false, ...(version === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}) };
    const first = await connected(version, 'dev', persistent);
    await first.subscribe([{ topic: 't', qos: 1 }]);
    first.send({ cmd: 'disconnect' });
    await first.closed;
    const again = harness.client(version);
    expect((await again.connect({ clientId: 'dev', clean: true })).sessionPresent).toBe(false);
    const pub = await connected(version, 'pub');
    pub.publish('t', 'x');
    await again.ping();
  });

  it('v5: ends the session with the connection when the Session Expiry Interval is absent [MQTT-3.1.2-25]', async () => {
    harness = new ProtocolHarness();
    const first = await connected(5, 'dev', { clean: false });
    first.send({ cmd: 'disconnect' });
    await first.closed;
    expect((await harness.client(5).connect({ clientId: 'dev', clean: false })).sessionPresent).toBe(false);
  });

  it('v5: keeps the session for the Session Expiry Interval and discards it after [MQTT-3.2.2-3] [MQTT-4.1.0-2]', async () => {
    harness = new ProtocolHarness();
    const session = { clean: false, properties: { sessionExpiryInterval: 60 } };
    const first = await connected(5, 'dev', session);
    first.send({ cmd: 'disconnect' });
    await first.closed;
    harness.clock.advance(59_000);
    const second = harness.client(5);
    expect((await second.connect({ clientId: 'dev', ...session })).sessionPresent).toBe(true);
    second.send({ cmd: 'disconnect' });
    await second.closed;
    harness.clock.advance(60_000);
    expect((await harness.client(5).connect({ clientId: 'dev', ...session })).sessionPresent).toBe(false);
  });

  it.each([
    [60, 0, false],
    [60, 3_600, true],
  ])('v5: lets DISCONNECT change a Session Expiry Interval of %i to %i (session kept: %s)', async (atConnect, atDisconnect, kept) => {
    harness = new ProtocolHarness();
    const first = await connected(5, 'dev', { clean: false, properties: { sessionExpiryInterval: atConnect } });
    first.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: atDisconnect } });
    await first.closed;
    harness.clock.advance(120_000);
    expect((await harness.client(5).connect({ clientId: 'dev', clean: false })).sessionPresent).toBe(kept);
  });

  it('v5: disconnects with 0x82 a DISCONNECT that sets a Session Expiry Interval after CONNECT set 0 (MQTT 5 §3.14.2.2.2)', async () => {
    harness = new ProtocolHarness();
    const client = await connected(5, 'dev');
    client.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
    expect((await client.expect('disconnect')).reasonCode).toBe(ReasonCode.ProtocolError);
    await client.closed;
  });
});

describe('Will messages', () => {
  it.each([4, 5] as const)('v%i: publishes the will when the connection closes without DISCONNECT [MQTT-3.1.2-8]', async (version) => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const dev = await connected(version, 'dev', { will: will() });
    dev.destroy();
    const published = await watching.expect('publish');
    expect([published.topic, published.payload.toString(), published.qos]).toEqual(['will/dev', 'gone', 1]);
  });

  it('publishes a will with Will Retain 1 as a retained message [MQTT-3.1.2-17]', async () => {
    harness = new ProtocolHarness();
    const dev = await connected(5, 'dev', { will: will({ retain: true }) });
    dev.destroy();
    const late = await connected(5, 'late');
    await late.subscribe([{ topic: 'will/dev', qos: 1 }]);
    const retained = await late.expect('publish');
    expect([retained.payload.toString(), retained.retain]).toEqual(['gone', true]);
  });

  it.each([4, 5] as const)('v%i: discards the will on DISCONNECT with reason 0x00 [MQTT-3.14.4-3]', async (version) => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const dev = await connected(version, 'dev', { will: will() });
    dev.send({ cmd: 'disconnect' });
    await dev.closed;
    await expectNothingBefore(watching);
  });

  it('v5: publishes the will after DISCONNECT with reason 0x04 (Disconnect with Will Message)', async () => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const dev = await connected(5, 'dev', { will: will() });
    dev.send({ cmd: 'disconnect', reasonCode: ReasonCode.DisconnectWithWill });
    expect((await watching.expect('publish')).topic).toBe('will/dev');
  });

  it('v5: starts the will’s Message Expiry Interval when the will is published, not at CONNECT (MQTT 5 §3.1.3.2.4)', async () => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const dev = await connected(5, 'dev', { will: will({ properties: { messageExpiryInterval: 60 } }) });
    harness.clock.advance(120_000);
    dev.destroy();
    expect((await watching.expect('publish')).properties?.messageExpiryInterval).toBe(60);
  });

  it.each([4, 5] as const)('v%i: disconnects the existing connection on a takeover (v5 with 0x8E) and publishes its will [MQTT-3.1.4-3]', async (version) => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const first = await connected(version, 'dev', { will: will() });
    await connected(version, 'dev');
    if (version === 5) expect((await first.expect('disconnect')).reasonCode).toBe(ReasonCode.SessionTakenOver);
    expect(await first.next()).toBeUndefined();
    expect((await watching.expect('publish')).topic).toBe('will/dev');
  });
});

describe('Will Delay Interval', () => {
  beforeEach(useFakeTimers);
  afterEach(() => {
    jest.useRealTimers();
  });

  const delayed = (delay: number, expiry = 300): Partial<mqtt.IConnectPacket> => ({
    clean: false,
    properties: { sessionExpiryInterval: expiry },
    will: will({ properties: { willDelayInterval: delay } }),
  });

  it('v5: publishes the will once the Will Delay Interval passed [MQTT-3.1.2-8]', async () => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const dev = await connected(5, 'dev', delayed(30));
    dev.destroy();
    await dev.closed;
    elapse(29_000);
    await expectNothingBefore(watching);
    elapse(1_000);
    expect((await watching.expect('publish')).topic).toBe('will/dev');
  });

  it('v5: does not publish the will when the session is resumed before the delay passed [MQTT-3.1.2-26]', async () => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const dev = await connected(5, 'dev', delayed(30));
    dev.destroy();
    await dev.closed;
    elapse(10_000);
    await connected(5, 'dev', { clean: false, properties: { sessionExpiryInterval: 300 } });
    elapse(60_000);
    await expectNothingBefore(watching);
  });

  it('v5: publishes the will when the session ends before the delay: the Session Expiry Interval is shorter [MQTT-3.1.2-8]', async () => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const dev = await connected(5, 'dev', delayed(600, 10));
    dev.destroy();
    await dev.closed;
    elapse(10_000);
    expect((await watching.expect('publish')).topic).toBe('will/dev');
  });

  it('v5: publishes a pending will at once when a Clean Start connection ends its session [MQTT-3.1.2-4] [MQTT-3.1.2-8]', async () => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const dev = await connected(5, 'dev', delayed(600));
    dev.destroy();
    await dev.closed;
    await connected(5, 'dev', { clean: true });
    expect((await watching.expect('publish')).topic).toBe('will/dev');
  });
});

describe('Keep alive', () => {
  beforeEach(useFakeTimers);
  afterEach(() => {
    jest.useRealTimers();
  });

  it('v5: closes with DISCONNECT 0x8D after one and a half keepalive periods without a packet [MQTT-3.1.2-24]', async () => {
    harness = new ProtocolHarness();
    const dev = await connected(5, 'dev', { keepalive: 10 });
    elapse(14_500);
    await dev.ping(); // still open at 14.5 s
    elapse(15_000);
    expect((await dev.expect('disconnect')).reasonCode).toBe(ReasonCode.KeepAliveTimeout);
    await dev.closed;
  });

  it('v3.1.1: closes the connection after one and a half keepalive periods, and publishes the will [MQTT-3.1.2-24]', async () => {
    harness = new ProtocolHarness();
    const watching = await watcher();
    const dev = await connected(4, 'dev', { keepalive: 4, will: will() });
    elapse(6_000);
    expect(await dev.next()).toBeUndefined();
    expect((await watching.expect('publish')).topic).toBe('will/dev');
  });

  it('keeps a connection alive that sends PINGREQ within the keepalive [MQTT-3.12.4-1]', async () => {
    harness = new ProtocolHarness();
    const dev = await connected(5, 'dev', { keepalive: 10 });
    for (let i = 0; i < 5; i++) {
      elapse(10_000);
      await dev.ping();
    }
    expect(dev.isClosed).toBe(false);
  });

  it.each([
    [60, 10],
    [0, 10],
  ])('v5: answers a client keepalive of %i with Server Keep Alive %i and enforces it [MQTT-3.2.2-21]', async (requested, bound) => {
    harness = new ProtocolHarness({ limits: { maxKeepaliveSeconds: 10 } });
    const dev = harness.client(5);
    const connack = await dev.connect({ clientId: 'dev', keepalive: requested });
    expect(connack.properties?.serverKeepAlive).toBe(bound);
    elapse(bound * 1_500);
    expect((await dev.expect('disconnect')).reasonCode).toBe(ReasonCode.KeepAliveTimeout);
  });

  it('v5: sends no Server Keep Alive when the client keepalive is within the bound [MQTT-3.2.2-22]', async () => {
    harness = new ProtocolHarness({ limits: { maxKeepaliveSeconds: 10 } });
    const connack = await harness.client(5).connect({ clientId: 'dev', keepalive: 5 });
    expect(connack.properties?.serverKeepAlive).toBeUndefined();
  });
});

describe('Topic aliases', () => {
  it('v5: resolves an inbound alias set with a topic and reused with an empty one, and one remapped later [MQTT-3.3.2-12]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 'a/#', qos: 0 }]);
    const pub = await connected(5, 'pub');
    pub.publish('a/first', '1', { properties: { topicAlias: 1 } });
    pub.publish('', '2', { properties: { topicAlias: 1 } });
    pub.publish('a/second', '3', { properties: { topicAlias: 1 } });
    pub.publish('', '4', { properties: { topicAlias: 1 } });
    await pub.ping();
    const topics = (await sub.drain()).map((p) => (p.cmd === 'publish' ? `${p.topic}:${p.payload.toString()}` : p.cmd));
    expect(topics).toEqual(['a/first:1', 'a/first:2', 'a/second:3', 'a/second:4']);
  });

  it.each([
    [0, 'alias 0 [MQTT-3.3.2-8]'],
    [3, 'above the Topic Alias Maximum of 2 [MQTT-3.3.2-9]'],
  ])('v5: disconnects with 0x94 a PUBLISH with topic alias %i (%s)', async (topicAlias) => {
    harness = new ProtocolHarness({ limits: { topicAliasMaximum: 2 } });
    const pub = await connected(5, 'pub');
    pub.publish('a', 'x', { properties: { topicAlias } });
    expect((await pub.expect('disconnect')).reasonCode).toBe(ReasonCode.TopicAliasInvalid);
    await pub.closed;
  });

  it('v5: disconnects with 0x82 an empty topic with an alias never set, also one set on an earlier connection [MQTT-3.3.2-7]', async () => {
    harness = new ProtocolHarness();
    const first = await connected(5, 'pub');
    first.publish('a', 'x', { properties: { topicAlias: 1 } });
    first.send({ cmd: 'disconnect' });
    await first.closed;
    const again = await connected(5, 'pub');
    again.publish('', 'y', { properties: { topicAlias: 1 } });
    expect((await again.expect('disconnect')).reasonCode).toBe(ReasonCode.ProtocolError);
  });

  it("v5: sends repeated topics as an empty topic with an alias, within the client's Topic Alias Maximum [MQTT-3.3.2-11]", async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub', { properties: { topicAliasMaximum: 1 } });
    await sub.subscribe([{ topic: '#', qos: 0 }]);
    const pub = await connected(5, 'pub');
    for (const topic of ['x', 'x', 'y', 'x']) pub.publish(topic, topic);
    await pub.ping();
    const seen = (await sub.drain()).map((p) => (p.cmd === 'publish' ? [p.topic, p.properties?.topicAlias] : [p.cmd]));
    expect(seen).toEqual([
      ['x', 1],
      ['', 1],
      ['y', undefined], // no alias left
      ['', 1],
    ]);
  });

  it('v5: sends no topic alias to a client that announced no Topic Alias Maximum [MQTT-3.1.2-30]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: '#', qos: 0 }]);
    const pub = await connected(5, 'pub');
    for (const topic of ['x', 'x']) pub.publish(topic, topic);
    await pub.ping();
    const seen = (await sub.drain()).map((p) => (p.cmd === 'publish' ? [p.topic, p.properties?.topicAlias] : [p.cmd]));
    expect(seen).toEqual([
      ['x', undefined],
      ['x', undefined],
    ]);
  });
});

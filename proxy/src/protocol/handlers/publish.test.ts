import { afterEach, describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt-packet';
import { BackendUnavailableError } from '../../errors.js';
import { GatedBackend } from '../../test-support/gated-backend.js';
import { ProtocolHarness, type TestClient } from '../../test-support/protocol-harness.js';
import { ReasonCode } from '../reason-codes.js';

let harness: ProtocolHarness;
afterEach(async () => harness.close());

/** A connected client of `version`, with `clientId`, optionally subscribed to `filter`. */
async function connected(version: 4 | 5, clientId: string, filter?: string, connect: Partial<mqtt.IConnectPacket> = {}): Promise<TestClient> {
  const client = await harness.connected(version, clientId, connect);
  if (filter !== undefined) await client.subscribe([{ topic: filter, qos: 2 }]);
  return client;
}

/** A harness whose stores wait for the test. */
function gatedHarness(limits: { receiveMaximum?: number } = {}): GatedBackend {
  let gated: GatedBackend | undefined;
  harness = new ProtocolHarness({ limits, backend: (memory) => (gated = new GatedBackend(memory)) });
  if (gated === undefined) throw new Error('backend not built');
  return gated;
}

/** Several PUBLISHes in one write, so the server reads them in one chunk. */
function pipelined(version: 4 | 5, ids: number[]): Buffer {
  return Buffer.concat(
    ids.map((messageId) =>
      mqtt.generate({ cmd: 'publish', topic: 't', payload: Buffer.from(`m${messageId}`), qos: 1, dup: false, retain: false, messageId }, { protocolVersion: version }),
    ),
  );
}

describe('PUBLISH from a client: acknowledgements', () => {
  it.each([4, 5] as const)('v%i: delivers a QoS 0 message and answers nothing [MQTT-3.3.4-1]', async (version) => {
    harness = new ProtocolHarness();
    const sub = await connected(version, 'sub', 't');
    const pub = await connected(version, 'pub');
    pub.publish('t', 'zero');
    const delivered = await sub.expect('publish');
    expect([delivered.topic, delivered.payload.toString(), delivered.qos]).toEqual(['t', 'zero', 0]);
    await pub.ping();
    expect(harness.backend.stored).toEqual([]); // QoS 0 is not stored
  });

  it.each([
    [4, 1, 'puback'],
    [4, 2, 'pubrec'],
    [5, 1, 'puback'],
    [5, 2, 'pubrec'],
  ] as const)('v%i: stores a QoS %i message and answers %s with its packet identifier [MQTT-3.3.4-1] [MQTT-4.3.2-4] [MQTT-4.3.3-8]', async (version, qos, ack) => {
    harness = new ProtocolHarness();
    const pub = await connected(version, 'pub');
    pub.publish('t', 'kept', { qos, messageId: 42 });
    const answer = await pub.expect(ack);
    expect(answer.messageId).toBe(42);
    if (version === 5) expect(answer.reasonCode ?? 0).toBe(ReasonCode.Success);
    expect(harness.backend.stored.map((m) => [m.topic, Buffer.from(m.payload).toString(), m.qos])).toEqual([['t', 'kept', qos]]);
  });

  it('sends PUBACK only after the backend stored the message', async () => {
    const gated = gatedHarness();
    const pub = await connected(5, 'pub');
    pub.publish('t', 'slow', { qos: 1, messageId: 7 });
    const [store] = await gated.take(1);
    await pub.ping(); // no PUBACK before the store finished
    expect(harness.backend.stored).toEqual([]);
    store?.succeed();
    expect((await pub.expect('puback')).messageId).toBe(7);
    expect(harness.backend.stored).toHaveLength(1);
  });

  it('answers PUBACK and PUBREC in PUBLISH order even when the stores finish in reverse [MQTT-4.6.0-2] [MQTT-4.6.0-3]', async () => {
    const gated = gatedHarness();
    const pub = await connected(5, 'pub');
    pub.publish('t', 'a', { qos: 1, messageId: 1 });
    pub.publish('t', 'b', { qos: 2, messageId: 2 });
    pub.publish('t', 'c', { qos: 1, messageId: 3 });
    const stores = await gated.take(3);
    for (const store of [...stores].reverse()) store.succeed();
    const answers = [await pub.next(), await pub.next(), await pub.next()];
    expect(answers.map((p) => [p?.cmd, p?.messageId])).toEqual([
      ['puback', 1],
      ['pubrec', 2],
      ['puback', 3],
    ]);
  });

  it.each([
    [1, 'puback'],
    [2, 'pubrec'],
  ] as const)('v5: answers a QoS %i message the backend failed to store with %s 0x80 and stays connected', async (qos, ack) => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    harness.backend.failure = new BackendUnavailableError('memory', 'shard down');
    pub.publish('t', 'lost', { qos, messageId: 3 });
    const answer = await pub.expect(ack);
    expect([answer.messageId, answer.reasonCode]).toEqual([3, ReasonCode.UnspecifiedError]);
    await pub.ping();
  });

  it('v5: treats a QoS 2 PUBLISH after a failed PUBREC as a new message with the same identifier [MQTT-4.3.3-9]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    harness.backend.failure = new BackendUnavailableError('memory', 'shard down');
    pub.publish('t', 'retry', { qos: 2, messageId: 3 });
    expect((await pub.expect('pubrec')).reasonCode).toBe(ReasonCode.UnspecifiedError);
    harness.backend.failure = undefined;
    pub.publish('t', 'retry', { qos: 2, messageId: 3 });
    expect((await pub.expect('pubrec')).reasonCode).toBe(ReasonCode.Success);
    expect(harness.backend.stored).toHaveLength(1);
  });

  it('v3.1.1: closes the connection without PUBACK when the backend failed to store a QoS 1 message (the client sends it again)', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(4, 'pub');
    harness.backend.failure = new BackendUnavailableError('memory', 'shard down');
    pub.publish('t', 'lost', { qos: 1, messageId: 3 });
    expect(await pub.next()).toBeUndefined();
  });
});

describe('PUBLISH from a client: Receive Maximum', () => {
  it.each([4, 5] as const)('v%i: stops reading at the Receive Maximum of pending stores and goes on once they finish, without disconnecting', async (version) => {
    const gated = gatedHarness({ receiveMaximum: 2 });
    const pub = await connected(version, 'pub');
    for (const messageId of [1, 2, 3]) pub.publish('t', `m${messageId}`, { qos: 1, messageId });
    const first = await gated.take(2);
    expect(gated.waitingCount).toBe(0);
    for (const store of first) store.succeed();
    const [third] = await gated.take(1); // read only once the first two were answered
    third?.succeed();
    const acks = [await pub.expect('puback'), await pub.expect('puback'), await pub.expect('puback')];
    expect(acks.map((a) => a.messageId)).toEqual([1, 2, 3]);
    await pub.ping();
  });

  it.each([4, 5] as const)('v%i: holds PUBLISHes pipelined in one read beyond the Receive Maximum until stores finish, never running more stores than the maximum', async (version) => {
    const gated = gatedHarness({ receiveMaximum: 2 });
    const pub = await connected(version, 'pub');
    pub.sendRaw(pipelined(version, [1, 2, 3, 4, 5]));
    for (const batch of [2, 2, 1]) {
      const stores = await gated.take(batch);
      expect(gated.waitingCount).toBe(0); // nothing beyond the batch was started
      for (const store of stores) store.succeed();
    }
    for (const id of [1, 2, 3, 4, 5]) expect((await pub.expect('puback')).messageId).toBe(id);
    await pub.ping();
  });

  it('v5: keeps packets after a held PUBLISH in order: a PINGREQ behind it is handled only after that PUBLISH started its store', async () => {
    const gated = gatedHarness({ receiveMaximum: 1 });
    const pub = await connected(5, 'pub');
    pub.sendRaw(pipelined(5, [1, 2]));
    pub.send({ cmd: 'pingreq' });
    for (const store of await gated.take(1)) store.succeed();
    expect((await pub.expect('puback')).messageId).toBe(1);
    await pub.expect('pingresp');
    expect(gated.waitingCount).toBe(1); // PUBLISH 2 was handled before the PINGREQ behind it
    for (const store of await gated.take(1)) store.succeed();
    expect((await pub.expect('puback')).messageId).toBe(2);
  });

  it('v5: counts QoS 2 flows waiting for PUBREL toward the Receive Maximum, and frees them on PUBREL [MQTT-3.3.4-7] (MQTT 5 §4.9)', async () => {
    harness = new ProtocolHarness({ limits: { receiveMaximum: 1 } });
    const pub = await connected(5, 'pub');
    pub.publish('t', 'a', { qos: 2, messageId: 1 });
    await pub.expect('pubrec');
    pub.publish('t', 'b', { qos: 2, messageId: 2 });
    await pub.expect('pubrec');
    pub.send({ cmd: 'pubrel', messageId: 1 });
    await pub.expect('pubcomp');
    pub.publish('t', 'c', { qos: 2, messageId: 3 }); // one flow open: within twice the maximum
    await pub.expect('pubrec');
    pub.publish('t', 'd', { qos: 2, messageId: 4 }); // three open: beyond
    expect((await pub.expect('disconnect')).reasonCode).toBe(ReasonCode.ReceiveMaximumExceeded);
  });
});

describe('PUBLISH: v5 properties', () => {
  it('passes payload format, content type, response topic, correlation data and user properties through unchanged [MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-20]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub', 'req/#');
    const pub = await connected(5, 'pub');
    const properties = {
      payloadFormatIndicator: true,
      contentType: 'application/json; charset=utf-8',
      responseTopic: 'reply/dev-1',
      correlationData: Buffer.from([0x00, 0x01, 0xfe, 0xff]),
      userProperties: { region: 'eu', tag: ['first', 'second', 'third'] },
    };
    pub.publish('req/1', '{"ünïcode":true}', { qos: 1, messageId: 1, properties });
    await pub.expect('puback');
    const delivered = await sub.expect('publish');
    expect(delivered.payload.toString()).toBe('{"ünïcode":true}');
    expect(delivered.properties).toEqual(properties);
  });

  it('keeps the order of repeated user properties with the same name [MQTT-3.3.2-18]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub', 't');
    const pub = await connected(5, 'pub');
    pub.publish('t', 'x', { properties: { userProperties: { k: ['3', '1', '2'] } } });
    expect((await sub.expect('publish')).properties?.userProperties).toEqual({ k: ['3', '1', '2'] });
  });

  it.each([
    [1, 'puback'],
    [2, 'pubrec'],
  ] as const)('refuses a QoS %i payload marked UTF-8 (format indicator 1) that is not, with %s 0x99, neither storing nor delivering it', async (qos, ack) => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub', 't');
    const pub = await connected(5, 'pub');
    pub.publish('t', Uint8Array.from([0xc3, 0x28]), { qos, messageId: 9, properties: { payloadFormatIndicator: true } });
    const answer = await pub.expect(ack);
    expect([answer.messageId, answer.reasonCode]).toEqual([9, ReasonCode.PayloadFormatInvalid]);
    expect(harness.backend.stored).toEqual([]);
    await sub.ping();
  });

  it('disconnects with 0x99 a QoS 0 payload marked UTF-8 that is not (there is no acknowledgement to carry it)', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    pub.publish('t', Uint8Array.from([0xff]), { properties: { payloadFormatIndicator: true } });
    expect((await pub.expect('disconnect')).reasonCode).toBe(ReasonCode.PayloadFormatInvalid);
    await pub.closed;
  });

  it('disconnects with 0x90 a response topic holding a wildcard [MQTT-3.3.2-14]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    pub.publish('t', 'x', { properties: { responseTopic: 'reply/+' } });
    expect((await pub.expect('disconnect')).reasonCode).toBe(ReasonCode.TopicNameInvalid);
  });

  it('delivers to a v3.1.1 subscriber the same payload without properties', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(4, 'sub', 't');
    const pub = await connected(5, 'pub');
    pub.publish('t', 'body', { properties: { contentType: 'text/plain', userProperties: { a: 'b' } } });
    const delivered = await sub.expect('publish');
    expect([delivered.payload.toString(), delivered.properties]).toEqual(['body', undefined]);
  });
});

describe('PUBLISH: message expiry and the client Maximum Packet Size', () => {
  it('forwards the Message Expiry Interval minus the time the message waited in the server [MQTT-3.3.2-6]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub', 't', { properties: { receiveMaximum: 1 } });
    const pub = await connected(5, 'pub');
    pub.publish('t', 'first', { qos: 1, messageId: 1 });
    pub.publish('t', 'waits', { qos: 1, messageId: 2, properties: { messageExpiryInterval: 60 } });
    await pub.expect('puback');
    await pub.expect('puback');
    const first = await sub.expect('publish');
    expect(first.properties?.messageExpiryInterval).toBeUndefined();
    harness.clock.advance(20_000);
    sub.send({ cmd: 'puback', messageId: first.messageId ?? 0 });
    const waited = await sub.expect('publish');
    expect([waited.payload.toString(), waited.properties?.messageExpiryInterval]).toEqual(['waits', 40]);
  });

  it('does not deliver a message whose expiry passed while it waited for the subscriber [MQTT-3.3.2-5]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub', 't', { properties: { receiveMaximum: 1 } });
    const pub = await connected(5, 'pub');
    pub.publish('t', 'first', { qos: 1, messageId: 1 });
    pub.publish('t', 'expires', { qos: 1, messageId: 2, properties: { messageExpiryInterval: 10 } });
    pub.publish('t', 'lasts', { qos: 1, messageId: 3 });
    for (let i = 0; i < 3; i++) await pub.expect('puback');
    const first = await sub.expect('publish');
    harness.clock.advance(10_000);
    sub.send({ cmd: 'puback', messageId: first.messageId ?? 0 });
    expect((await sub.expect('publish')).payload.toString()).toBe('lasts');
  });

  it("discards a delivery above the subscriber's Maximum Packet Size and delivers the next one [MQTT-3.1.2-27] [MQTT-3.1.2-28]", async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub', 't', { properties: { maximumPacketSize: 64 } });
    const pub = await connected(5, 'pub');
    pub.publish('t', 'x'.repeat(200), { qos: 1, messageId: 1 });
    pub.publish('t', 'fits', { qos: 1, messageId: 2 });
    await pub.expect('puback');
    await pub.expect('puback');
    const delivered = await sub.expect('publish');
    expect(delivered.payload.toString()).toBe('fits');
    sub.send({ cmd: 'puback', messageId: delivered.messageId ?? 0 });
    await sub.ping();
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import type mqtt from 'mqtt-packet';
import { ProtocolHarness, type TestClient } from '../../test-support/protocol-harness.js';
import { ReasonCode } from '../reason-codes.js';

let harness: ProtocolHarness;
afterEach(async () => harness.close());

function connected(version: 4 | 5, clientId: string, connect: Partial<mqtt.IConnectPacket> = {}): Promise<TestClient> {
  return harness.connected(version, clientId, connect);
}

async function subscriber(version: 4 | 5, qos: 0 | 1 | 2, connect: Partial<mqtt.IConnectPacket> = {}, clientId = 'sub'): Promise<TestClient> {
  const client = await connected(version, clientId, connect);
  await client.subscribe([{ topic: 't/#', qos }]);
  return client;
}

/** Publishes at QoS 1 and waits for the PUBACK, so the message reached every subscriber before the next step. */
async function publishStored(pub: TestClient, topic: string, payload: string, messageId: number): Promise<void> {
  pub.publish(topic, payload, { qos: 1, messageId });
  await pub.expect('puback');
}

const stored = (): string[] => harness.backend.stored.map((m) => Buffer.from(m.payload).toString());

describe('QoS 2 from a client: exactly once', () => {
  it.each([4, 5] as const)('v%i: stores a re-sent PUBLISH (DUP 1) once before PUBREL, answering PUBREC each time [MQTT-4.3.3-10]', async (version) => {
    harness = new ProtocolHarness();
    const sub = await subscriber(version, 2);
    const pub = await connected(version, 'pub');
    pub.publish('t/1', 'once', { qos: 2, messageId: 5 });
    expect((await pub.expect('pubrec')).messageId).toBe(5);
    pub.publish('t/1', 'once', { qos: 2, messageId: 5, dup: true });
    expect((await pub.expect('pubrec')).messageId).toBe(5);
    pub.send({ cmd: 'pubrel', messageId: 5 });
    const pubcomp = await pub.expect('pubcomp');
    expect([pubcomp.messageId, pubcomp.reasonCode ?? 0]).toEqual([5, ReasonCode.Success]); // [MQTT-4.3.3-11]
    expect(stored()).toEqual(['once']);
    const delivered = await sub.expect('publish');
    sub.send({ cmd: 'pubrec', messageId: delivered.messageId ?? 0 });
    await sub.expect('pubrel');
    sub.send({ cmd: 'pubcomp', messageId: delivered.messageId ?? 0 });
    await sub.ping(); // delivered once
  });

  it('stores a PUBLISH reusing an identifier whose flow is open once, even without DUP [MQTT-4.3.3-10]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    pub.publish('t/1', 'first', { qos: 2, messageId: 5 });
    await pub.expect('pubrec');
    pub.publish('t/1', 'first', { qos: 2, messageId: 5 });
    await pub.expect('pubrec');
    expect(stored()).toEqual(['first']);
  });

  it('treats the identifier as new once PUBCOMP was sent [MQTT-4.3.3-12]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    for (const payload of ['one', 'two']) {
      pub.publish('t/1', payload, { qos: 2, messageId: 5 });
      await pub.expect('pubrec');
      pub.send({ cmd: 'pubrel', messageId: 5 });
      await pub.expect('pubcomp');
    }
    expect(stored()).toEqual(['one', 'two']);
  });

  it('stores a PUBLISH re-sent on a resumed session once [MQTT-4.3.3-10] [MQTT-4.4.0-1]', async () => {
    harness = new ProtocolHarness();
    const session = { clientId: 'pub', clean: false, properties: { sessionExpiryInterval: 300 } };
    const first = await connected(5, 'pub', session);
    first.publish('t/1', 'resent', { qos: 2, messageId: 9 });
    await first.expect('pubrec');
    first.destroy();
    const again = await connected(5, 'pub', session);
    again.publish('t/1', 'resent', { qos: 2, messageId: 9, dup: true });
    await again.expect('pubrec');
    again.send({ cmd: 'pubrel', messageId: 9 });
    await again.expect('pubcomp');
    expect(stored()).toEqual(['resent']);
  });

  it('v5: answers PUBREL for an unknown identifier with PUBCOMP 0x92 [MQTT-4.3.3-11]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    pub.send({ cmd: 'pubrel', messageId: 77 });
    const pubcomp = await pub.expect('pubcomp');
    expect([pubcomp.messageId, pubcomp.reasonCode]).toEqual([77, ReasonCode.PacketIdentifierNotFound]);
  });

  it('v3.1.1: answers PUBREL for an unknown identifier with PUBCOMP (a late duplicate) [MQTT-4.3.3-11]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(4, 'pub');
    pub.send({ cmd: 'pubrel', messageId: 77 });
    expect((await pub.expect('pubcomp')).messageId).toBe(77);
  });
});

describe('QoS 1 and 2 to a subscriber', () => {
  it.each([4, 5] as const)('v%i: delivers QoS 1 with a packet identifier and DUP 0, and completes on PUBACK [MQTT-4.3.2-2]', async (version) => {
    harness = new ProtocolHarness();
    const sub = await subscriber(version, 1);
    const pub = await connected(version, 'pub');
    pub.publish('t/1', 'one', { qos: 1, messageId: 3, dup: true }); // DUP is not forwarded [MQTT-3.3.1-3]
    await pub.expect('puback');
    const delivered = await sub.expect('publish');
    expect([delivered.qos, delivered.dup]).toEqual([1, false]);
    expect(delivered.messageId).toBeGreaterThan(0);
    sub.send({ cmd: 'puback', messageId: delivered.messageId ?? 0 });
    await sub.ping();
  });

  it.each([4, 5] as const)('v%i: runs PUBLISH → PUBREC → PUBREL → PUBCOMP with one identifier [MQTT-4.3.3-2] [MQTT-4.3.3-4]', async (version) => {
    harness = new ProtocolHarness();
    const sub = await subscriber(version, 2);
    const pub = await connected(version, 'pub');
    await publishStored(pub, 't/1', 'two', 1);
    pub.publish('t/1', 'two', { qos: 2, messageId: 2 });
    await pub.expect('pubrec');
    await sub.expect('publish'); // the QoS 1 one, at QoS 1
    const delivered = await sub.expect('publish');
    expect([delivered.qos, delivered.dup]).toEqual([2, false]);
    sub.send({ cmd: 'pubrec', messageId: delivered.messageId ?? 0 });
    expect((await sub.expect('pubrel')).messageId).toBe(delivered.messageId);
    sub.send({ cmd: 'pubcomp', messageId: delivered.messageId ?? 0 });
    await sub.ping();
  });

  it.each([
    [0, 2, 0],
    [1, 2, 1],
    [2, 1, 1],
    [2, 0, 0],
  ] as const)('delivers at the lower of the subscription QoS %i and the message QoS %i: %i [MQTT-3.8.4-8]', async (subQos, msgQos, expected) => {
    harness = new ProtocolHarness();
    const sub = await subscriber(5, subQos);
    const pub = await connected(5, 'pub');
    pub.publish('t/1', 'x', { qos: msgQos, ...(msgQos > 0 ? { messageId: 1 } : {}) });
    const delivered = await sub.expect('publish');
    expect(delivered.qos).toBe(expected);
    expect(delivered.messageId === undefined || expected > 0).toBe(true); // no identifier at QoS 0 [MQTT-2.2.1-2]
  });

  it.each([4, 5] as const)('v%i: re-sends an unacknowledged QoS 1 delivery with DUP 1 and its identifier when the session resumes [MQTT-4.4.0-1] [MQTT-3.3.1-1]', async (version) => {
    harness = new ProtocolHarness();
    const session = { clean: false, ...(version === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}) };
    const sub = await subscriber(version, 1, session);
    const pub = await connected(version, 'pub');
    await publishStored(pub, 't/1', 'unacked', 1);
    const first = await sub.expect('publish');
    sub.destroy();
    const again = harness.client(version);
    expect((await again.connect({ clientId: 'sub', ...session })).sessionPresent).toBe(true);
    const resent = await again.expect('publish');
    expect([resent.payload.toString(), resent.messageId, resent.dup]).toEqual(['unacked', first.messageId, true]);
    again.send({ cmd: 'puback', messageId: resent.messageId ?? 0 });
    await again.ping();
  });

  it('re-sends PUBREL, not the PUBLISH, for a QoS 2 delivery whose PUBREC arrived before the connection dropped [MQTT-4.4.0-1] [MQTT-4.3.3-6]', async () => {
    harness = new ProtocolHarness();
    const session = { clean: false, properties: { sessionExpiryInterval: 300 } };
    const sub = await subscriber(5, 2, session);
    const pub = await connected(5, 'pub');
    pub.publish('t/1', 'released', { qos: 2, messageId: 1 });
    await pub.expect('pubrec');
    const delivered = await sub.expect('publish');
    sub.send({ cmd: 'pubrec', messageId: delivered.messageId ?? 0 });
    await sub.expect('pubrel');
    sub.destroy();
    const again = harness.client(5);
    await again.connect({ clientId: 'sub', ...session });
    expect((await again.expect('pubrel')).messageId).toBe(delivered.messageId);
    again.send({ cmd: 'pubcomp', messageId: delivered.messageId ?? 0 });
    await again.ping();
  });
});

describe('Outbound flow control', () => {
  it("keeps no more unacknowledged QoS 1 deliveries than the client's Receive Maximum [MQTT-3.3.4-9]", async () => {
    harness = new ProtocolHarness();
    const sub = await subscriber(5, 1, { properties: { receiveMaximum: 2 } });
    const pub = await connected(5, 'pub');
    for (const [i, payload] of ['a', 'b', 'c'].entries()) await publishStored(pub, 't/1', payload, i + 1);
    const a = await sub.expect('publish');
    await sub.expect('publish');
    await sub.ping(); // c waits for a slot
    sub.send({ cmd: 'puback', messageId: a.messageId ?? 0 });
    expect((await sub.expect('publish')).payload.toString()).toBe('c');
  });

  it('sends PINGRESP while the Receive Maximum window is full [MQTT-3.3.4-10] [MQTT-4.9.0-3]', async () => {
    harness = new ProtocolHarness();
    const sub = await subscriber(5, 1, { properties: { receiveMaximum: 1 } });
    const pub = await connected(5, 'pub');
    await publishStored(pub, 't/1', 'a', 1);
    await publishStored(pub, 't/1', 'b', 2);
    await sub.expect('publish');
    await sub.ping();
  });

  it('drops queued QoS 0 messages first when the outbound queue is full, then the newest QoS 1/2 ones', async () => {
    harness = new ProtocolHarness({ limits: { maxQueuedMessages: 2 } });
    const sub = await subscriber(5, 2, { properties: { receiveMaximum: 1 } });
    const pub = await connected(5, 'pub');
    await publishStored(pub, 't/1', 'a', 1); // in flight
    await publishStored(pub, 't/1', 'c', 2); // queued
    pub.publish('t/1', 'b-qos0');
    await pub.ping(); // queued behind c
    await publishStored(pub, 't/1', 'd', 3); // queue full: b-qos0 is dropped
    await publishStored(pub, 't/1', 'e', 4); // queue full of QoS 1: e itself is dropped
    const received: string[] = [];
    for (let i = 0; i < 3; i++) {
      const delivered = await sub.expect('publish');
      received.push(delivered.payload.toString());
      sub.send({ cmd: 'puback', messageId: delivered.messageId ?? 0 });
    }
    await sub.ping();
    expect(received).toEqual(['a', 'c', 'd']);
  });
});

// Bad input from a client, as raw bytes (mqtt-packet will not encode most of it): each case gets the reason code
// the spec names where it names one — a v5 CONNACK before CONNECT was accepted, a DISCONNECT after — and a close.
// A v3.1.1 client gets a CONNACK only for the causes 3.1.1 has return codes for, and otherwise just the close:
// a deliberate choice, 3.1.1 has no way to report a malformed packet.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ProtocolHarness, type TestClient } from '../test-support/protocol-harness.js';
import { First, frame, props, rawConnect, str, u16, varInt } from '../test-support/raw-packets.js';
import { ConnackReturnCode, ReasonCode } from './reason-codes.js';

let harness: ProtocolHarness;
afterEach(async () => harness.close());

function connectedClient(version: 4 | 5): Promise<TestClient> {
  return harness.connected(version, `c${version}`);
}

/** The server closed the connection and sent nothing more. */
async function expectClosed(client: TestClient): Promise<void> {
  expect(await client.next()).toBeUndefined();
}

/** The server answered with DISCONNECT `reasonCode`, then closed. */
async function expectDisconnect(client: TestClient, reasonCode: number): Promise<void> {
  expect((await client.expect('disconnect')).reasonCode).toBe(reasonCode);
  await expectClosed(client);
}

const payload = [0x78];
const v5Publish = (topic: readonly number[], properties = props()): Uint8Array => frame(First.publishQos0, [...topic, ...properties, ...payload]);

/** After a v5 CONNECT: the bytes, the reason code of the DISCONNECT. */
const afterConnectV5: [string, Uint8Array, number][] = [
  ['a PUBLISH whose Remaining Length ends inside its topic length (truncated; MQTT 5 §2.1.4)', frame(First.publishQos0, [0x00]), ReasonCode.MalformedPacket],
  ['a Remaining Length of more than four bytes (MQTT 5 §1.5.5)', Uint8Array.from([First.publishQos0, 0xff, 0xff, 0xff, 0xff, 0x01]), ReasonCode.MalformedPacket],
  ['a PUBLISH with an unknown property identifier (MQTT 5 §2.2.2.2)', v5Publish(str('t'), props(0x7f, 0x01)), ReasonCode.MalformedPacket],
  ['a topic string whose length points past the packet (MQTT 5 §1.5.4)', frame(First.publishQos0, [0x00, 0x40, 0x74]), ReasonCode.MalformedPacket],
  ['a SUBSCRIBE filter whose length points past the packet (MQTT 5 §1.5.4)', frame(First.subscribe, [...u16(1), ...props(), 0x00, 0x64, 0x61, 0x00]), ReasonCode.MalformedPacket],
  ['a topic name with the wildcard + [MQTT-3.3.2-2]', v5Publish(str('a/+')), ReasonCode.TopicNameInvalid],
  ['a topic name with the wildcard # [MQTT-3.3.2-2]', v5Publish(str('a/#')), ReasonCode.TopicNameInvalid],
  ['a topic name with ill-formed UTF-8 (0xC3 0x28) [MQTT-1.5.4-1]', v5Publish(str([0x61, 0xc3, 0x28])), ReasonCode.MalformedPacket],
  ['a topic name with U+0000 [MQTT-1.5.4-2] [MQTT-4.7.3-2]', v5Publish(str([0x61, 0x00, 0x62])), ReasonCode.MalformedPacket],
  ['a topic name encoding a UTF-16 surrogate (0xED 0xA0 0x80) [MQTT-1.5.4-1]', v5Publish(str([0xed, 0xa0, 0x80])), ReasonCode.MalformedPacket],
  ['a topic filter with ill-formed UTF-8 [MQTT-1.5.4-1]', frame(First.subscribe, [...u16(1), ...props(), ...str([0xc3, 0x28]), 0x00]), ReasonCode.MalformedPacket],
  ['a SUBSCRIBE with fixed-header flags 0 instead of 2 [MQTT-3.8.1-1]', frame(0x80, [...u16(1), ...props(), ...str('a'), 0x00]), ReasonCode.MalformedPacket],
  ['an UNSUBSCRIBE with fixed-header flags 0 instead of 2 [MQTT-3.10.1-1]', frame(0xa0, [...u16(1), ...props(), ...str('a')]), ReasonCode.MalformedPacket],
  ['a PUBREL with fixed-header flags 0 instead of 2 [MQTT-3.6.1-1]', frame(0x60, u16(1)), ReasonCode.MalformedPacket],
  ['a PINGREQ with a reserved flag bit set [MQTT-2.1.3-1]', Uint8Array.from([0xc1, 0x00]), ReasonCode.MalformedPacket],
  ['a DISCONNECT with a reserved flag bit set [MQTT-3.14.1-1]', Uint8Array.from([0xe2, 0x00]), ReasonCode.MalformedPacket],
  ['a PUBLISH with both QoS bits set (QoS 3) [MQTT-3.3.1-4]', frame(0x36, [...str('a'), ...u16(1), ...props(), ...payload]), ReasonCode.MalformedPacket],
  ['a packet of the reserved type 0 (MQTT 5 §2.1.2)', Uint8Array.from([0x00, 0x00]), ReasonCode.MalformedPacket],
  ['subscription options with reserved bits set [MQTT-3.8.3-5]', frame(First.subscribe, [...u16(1), ...props(), ...str('a'), 0xc0]), ReasonCode.MalformedPacket],
  ['a SUBSCRIBE without any topic filter [MQTT-3.8.3-2]', frame(First.subscribe, [...u16(1), ...props()]), ReasonCode.ProtocolError],
  ['an UNSUBSCRIBE without any topic filter [MQTT-3.10.3-2]', frame(First.unsubscribe, [...u16(1), ...props()]), ReasonCode.ProtocolError],
  ['topic alias 0 [MQTT-3.3.2-8]', v5Publish(str('a'), props(0x23, ...u16(0))), ReasonCode.TopicAliasInvalid],
  ['a subscription identifier 0 (MQTT 5 §3.8.2.1.2)', frame(First.subscribe, [...u16(1), ...props(0x0b, 0x00), ...str('a'), 0x00]), ReasonCode.ProtocolError],
  ['a subscription identifier on a PUBLISH from the client [MQTT-3.3.4-6]', v5Publish(str('a'), props(0x0b, 0x05)), ReasonCode.ProtocolError],
  ['a QoS 1 PUBLISH with packet identifier 0 [MQTT-2.2.1-3]', frame(First.publishQos1, [...str('a'), ...u16(0), ...props(), ...payload]), ReasonCode.ProtocolError],
  ['an AUTH packet on a connection without an authentication method [MQTT-4.12.0-7]', frame(First.auth, [0x18, ...props()]), ReasonCode.ProtocolError],
  ['a second CONNECT [MQTT-3.1.0-2]', rawConnect({ level: 5 }), ReasonCode.ProtocolError],
  ['a CONNACK, which only a server sends (MQTT 5 §2.1.2)', frame(First.connack, [0x00, 0x00, ...props()]), ReasonCode.ProtocolError],
  ['a SUBACK, which only a server sends (MQTT 5 §2.1.2)', frame(First.suback, [...u16(1), ...props(), 0x00]), ReasonCode.ProtocolError],
  ['a PINGRESP, which only a server sends (MQTT 5 §2.1.2)', Uint8Array.from([First.pingresp, 0x00]), ReasonCode.ProtocolError],
];

/** After a v3.1.1 CONNECT: bytes that close the connection (3.1.1 has no DISCONNECT from the server). */
const afterConnectV4: [string, Uint8Array][] = [
  ['a PUBLISH whose Remaining Length ends inside its topic length (truncated)', frame(First.publishQos0, [0x00])],
  ['a Remaining Length of more than four bytes', Uint8Array.from([First.publishQos0, 0xff, 0xff, 0xff, 0xff, 0x01])],
  ['a topic name with the wildcard + [MQTT-3.3.2-2 in 3.1.1]', frame(First.publishQos0, [...str('a/+'), ...payload])],
  ['a topic name with ill-formed UTF-8 [MQTT-1.5.3-1 in 3.1.1]', frame(First.publishQos0, [...str([0xc3, 0x28]), ...payload])],
  ['a topic name with U+0000 [MQTT-1.5.3-2 in 3.1.1]', frame(First.publishQos0, [...str([0x00]), ...payload])],
  ['a SUBSCRIBE with fixed-header flags 0 [MQTT-2.2.2-2 in 3.1.1]', frame(0x80, [...u16(1), ...str('a'), 0x00])],
  ['a PUBLISH with QoS 3 [MQTT-3.3.1-4 in 3.1.1]', frame(0x36, [...str('a'), ...u16(1), ...payload])],
  ['a SUBSCRIBE without any topic filter [MQTT-3.8.3-3 in 3.1.1]', frame(First.subscribe, u16(1))],
  ['an AUTH packet, which 3.1.1 does not have', frame(First.auth, [0x00])],
  ['a second CONNECT [MQTT-3.1.0-2]', rawConnect({ level: 4 })],
  ['a CONNACK, which only a server sends', frame(First.connack, [0x00, 0x00])],
  ['a PINGRESP, which only a server sends', Uint8Array.from([First.pingresp, 0x00])],
];

/** Instead of a valid CONNECT: bytes, the version of the client, and the CONNACK code expected (undefined: none). */
const atConnect: [string, Uint8Array, 4 | 5, number | undefined][] = [
  ['an unknown protocol level (6) [MQTT-3.1.2-2]', rawConnect({ level: 6 }), 4, ConnackReturnCode.UnacceptableProtocolVersion],
  ['an unknown protocol level (2) [MQTT-3.1.2-2]', rawConnect({ level: 2 }), 4, ConnackReturnCode.UnacceptableProtocolVersion],
  ['v5: the reserved connect flag bit set [MQTT-3.1.2-3]', rawConnect({ level: 5, flags: 0x03 }), 5, ReasonCode.MalformedPacket],
  ['v5: will flag 0 with will QoS 1 [MQTT-3.1.2-11] [MQTT-3.1.2-13]', rawConnect({ level: 5, flags: 0x0a }), 5, ReasonCode.MalformedPacket],
  ['v5: will flag 0 with will retain [MQTT-3.1.2-15]', rawConnect({ level: 5, flags: 0x22 }), 5, ReasonCode.MalformedPacket],
  ['v5: will QoS 3 [MQTT-3.1.2-14]', rawConnect({ level: 5, flags: 0x1e, tail: [...props(), ...str('w'), ...str('x')] }), 5, ReasonCode.MalformedPacket],
  ['v5: an unknown CONNECT property (MQTT 5 §2.2.2.2)', rawConnect({ level: 5, properties: props(0x7f, 0x00) }), 5, ReasonCode.MalformedPacket],
  ['v5: a will topic with a wildcard [MQTT-3.3.2-2]', rawConnect({ level: 5, flags: 0x06, tail: [...props(), ...str('w/#'), ...str('x')] }), 5, ReasonCode.TopicNameInvalid],
  ['v5: a will topic with ill-formed UTF-8 [MQTT-1.5.4-1]', rawConnect({ level: 5, flags: 0x06, tail: [...props(), ...str([0xc3, 0x28]), ...str('x')] }), 5, ReasonCode.MalformedPacket],
  ['v3.1.1: the reserved connect flag bit set [MQTT-3.1.2-3] (no 3.1.1 return code: close only)', rawConnect({ level: 4, flags: 0x03 }), 4, undefined],
  ['v3.1.1: will flag 0 with will QoS 1 [MQTT-3.1.2-11] (close only)', rawConnect({ level: 4, flags: 0x0a }), 4, undefined],
  ['v3.1.1: will QoS 3 [MQTT-3.1.2-14] (close only)', rawConnect({ level: 4, flags: 0x1e, tail: [...str('w'), ...str('x')] }), 4, undefined],
  ['a protocol name other than MQTT [MQTT-3.1.2-1] (close only)', frame(First.connect, [...str('MQTX'), 4, 0x02, ...u16(0), ...str('c')]), 4, undefined],
  ['a PUBLISH before CONNECT [MQTT-3.1.0-1] (close only)', frame(First.publishQos0, [...str('a'), ...payload]), 4, undefined],
  ['a SUBSCRIBE before CONNECT [MQTT-3.1.0-1] (close only)', frame(First.subscribe, [...u16(1), ...str('a'), 0x00]), 4, undefined],
  ['a PINGREQ before CONNECT [MQTT-3.1.0-1] (close only)', Uint8Array.from([First.pingreq, 0x00]), 4, undefined],
];

describe('bad input after a v5 CONNECT', () => {
  it.each(afterConnectV5)('disconnects on %s with the reason code it names', async (_name, bytes, reasonCode) => {
    harness = new ProtocolHarness();
    const client = await connectedClient(5);
    client.sendRaw(bytes);
    await expectDisconnect(client, reasonCode);
  });

  it('disconnects with 0x95 on a packet whose header declares more than the Maximum Packet Size, without waiting for its body (MQTT 5 §3.2.2.3.6)', async () => {
    harness = new ProtocolHarness({ limits: { maxPacketSizeBytes: 1_024 } });
    const client = await connectedClient(5);
    client.sendRaw(Uint8Array.from([First.publishQos0, ...varInt(100_000)]));
    await expectDisconnect(client, ReasonCode.PacketTooLarge);
  });
});

describe('bad input after a v3.1.1 CONNECT', () => {
  it.each(afterConnectV4)('closes the connection on %s', async (_name, bytes) => {
    harness = new ProtocolHarness();
    const client = await connectedClient(4);
    client.sendRaw(bytes);
    await expectClosed(client);
  });
});

describe('bad input instead of a CONNECT', () => {
  it.each(atConnect)('answers %s as the spec says, then closes', async (_name, bytes, version, code) => {
    harness = new ProtocolHarness();
    const client = harness.client(version);
    client.sendRaw(bytes);
    if (code !== undefined) {
      const connack = await client.expect('connack');
      expect(connack.sessionPresent).toBe(false);
      if (version === 4) expect(connack.length).toBe(2); // the 3.1.1 form: no reason code, no properties
      expect(version === 5 ? connack.reasonCode : connack.returnCode).toBe(code);
    }
    await expectClosed(client);
    expect(harness.registry.size).toBe(0);
  });

  it('closes a connection whose CONNECT header declares more than the Maximum Packet Size, without waiting for its body', async () => {
    harness = new ProtocolHarness({ limits: { maxPacketSizeBytes: 1_024 } });
    const client = harness.client(4);
    client.sendRaw(Uint8Array.from([First.connect, ...varInt(1_000_000)]));
    await expectClosed(client);
  });

  it('closes a connection whose CONNECT never completes once the connect timeout passed [MQTT-3.1.4-1]', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      harness = new ProtocolHarness({ limits: { connectTimeoutMs: 5_000 } });
      const client = harness.client(4);
      client.sendRaw(rawConnect().subarray(0, 8)); // truncated: the rest never comes
      jest.advanceTimersByTime(5_000);
      await expectClosed(client);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('after a barrage of bad input', () => {
  // An unhandled rejection anywhere in the proxy during this test fails it: Jest 30 listens for
  // 'unhandledRejection' on the real process and reports the rejection as this test's error. (A listener added
  // here with process.on would never fire: the test's `process` is Jest's sandbox copy, not the real one.)
  it('stays healthy: no client left registered, and normal v3.1.1 and v5 clients still connect, subscribe and publish', async () => {
    harness = new ProtocolHarness();
    for (const [, bytes, version, code] of atConnect) {
      const client = harness.client(version);
      client.sendRaw(bytes);
      if (code !== undefined) await client.expect('connack');
      await expectClosed(client);
    }
    for (const [, bytes, reasonCode] of afterConnectV5) {
      const client = await connectedClient(5);
      client.sendRaw(bytes);
      await expectDisconnect(client, reasonCode);
    }
    for (const [, bytes] of afterConnectV4) {
      const client = await connectedClient(4);
      client.sendRaw(bytes);
      await expectClosed(client);
    }
    expect(harness.registry.size).toBe(0);

    const sub = harness.client(4);
    await sub.connect({ clientId: 'healthy-sub' });
    await sub.subscribe([{ topic: 'ok/+', qos: 1 }]);
    const pub = harness.client(5);
    await pub.connect({ clientId: 'healthy-pub' });
    pub.publish('ok/1', 'still here', { qos: 1, messageId: 1 });
    expect((await pub.expect('puback')).reasonCode).toBe(ReasonCode.Success);
    expect((await sub.expect('publish')).payload.toString()).toBe('still here');
    expect(harness.registry.size).toBe(2);
  });
});

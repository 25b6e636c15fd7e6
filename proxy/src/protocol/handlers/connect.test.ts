import { afterEach, describe, expect, it } from '@jest/globals';
import { ProtocolHarness } from '../../test-support/protocol-harness.js';
import { ReasonCode } from '../reason-codes.js';

describe('CONNECT', () => {
  let harness: ProtocolHarness;
  afterEach(async () => harness.close());

  it('accepts a v5 client and announces the server limits in CONNACK', async () => {
    harness = new ProtocolHarness({ limits: { receiveMaximum: 50, topicAliasMaximum: 7 } });
    const connack = await harness.client(5).connect({ clientId: 'dev-1' });
    expect(connack.reasonCode).toBe(ReasonCode.Success);
    expect(connack.sessionPresent).toBe(false);
    expect(connack.properties).toMatchObject({ receiveMaximum: 50, topicAliasMaximum: 7, retainAvailable: true, sharedSubscriptionAvailable: true });
  });

  it('assigns a client id to a v5 client that sent an empty one [MQTT-3.1.3-6]', async () => {
    harness = new ProtocolHarness();
    const connack = await harness.client(5).connect({ clientId: '' });
    expect(connack.properties?.assignedClientIdentifier).toMatch(/^shoal-/);
  });

  it('refuses a v3.1.1 client with an empty id and clean session 0 with return code 2 [MQTT-3.1.3-8]', async () => {
    harness = new ProtocolHarness();
    const client = harness.client(4);
    // mqtt-packet refuses to encode this, so the bytes are written by hand: CONNECT, "MQTT", level 4, flags 0
    client.sendRaw(Uint8Array.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]));
    const connack = await client.expect('connack');
    expect(connack.returnCode).toBe(2);
    await client.closed;
  });

  it('closes on a second CONNECT with 0x82 [MQTT-3.1.0-2]', async () => {
    harness = new ProtocolHarness();
    const client = harness.client(5);
    await client.connect();
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 0 });
    const disconnect = await client.expect('disconnect');
    expect(disconnect.reasonCode).toBe(ReasonCode.ProtocolError);
    await client.closed;
  });

  it('closes a connection whose first packet is not CONNECT [MQTT-3.1.0-1]', async () => {
    harness = new ProtocolHarness();
    const client = harness.client(4);
    client.send({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, dup: false, retain: false });
    expect(await client.next()).toBeUndefined();
  });

  it('answers Server Unavailable when the proxy is not admitting', async () => {
    harness = new ProtocolHarness({ admission: () => 'unavailable' });
    expect((await harness.client(5).connect()).reasonCode).toBe(ReasonCode.ServerUnavailable);
    expect((await harness.client(4).connect()).returnCode).toBe(3);
  });

  it('takes over a connection with the same client id with 0x8E [MQTT-3.1.4-2]', async () => {
    harness = new ProtocolHarness();
    const first = harness.client(5);
    await first.connect({ clientId: 'same' });
    const second = harness.client(5);
    const connack = await second.connect({ clientId: 'same' });
    expect(connack.reasonCode).toBe(ReasonCode.Success);
    expect((await first.expect('disconnect')).reasonCode).toBe(ReasonCode.SessionTakenOver);
    await first.closed;
  });

  it('resumes a persistent session with session present = 1 and its subscriptions', async () => {
    harness = new ProtocolHarness();
    const first = harness.client(4);
    await first.connect({ clientId: 'p', clean: false });
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x/+', qos: 1 }] });
    await first.expect('suback');
    first.send({ cmd: 'disconnect' });
    await first.closed;
    const again = harness.client(4);
    expect((await again.connect({ clientId: 'p', clean: false })).sessionPresent).toBe(true);
    const publisher = harness.client(4);
    await publisher.connect({ clientId: 'pub' });
    publisher.send({ cmd: 'publish', topic: 'x/1', payload: Buffer.from('m'), qos: 1, dup: false, retain: false, messageId: 9 });
    await publisher.expect('puback');
    const delivered = await again.expect('publish');
    expect(delivered.topic).toBe('x/1');
    expect(delivered.qos).toBe(1);
  });
});

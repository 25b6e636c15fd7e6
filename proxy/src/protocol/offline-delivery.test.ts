import { afterEach, describe, expect, it } from '@jest/globals';
import type mqtt from 'mqtt-packet';
import { ProtocolHarness, type TestClient } from '../test-support/protocol-harness.js';
import { noMetrics, type ProtocolMetrics } from './ports.js';

let harness: ProtocolHarness;
afterEach(async () => harness.close());

const persistentV3 = { clean: false };
const persistentV5 = { clean: false, properties: { sessionExpiryInterval: 600 } };

/** Publishes QoS 1 messages `<topic>` = `<prefix><i>` from a client of its own, each acknowledged (stored). */
async function publishStored(topic: (i: number) => string, count: number, prefix = 'm'): Promise<void> {
  const publisher = await harness.connected(5, `pub-${prefix}`);
  for (let i = 0; i < count; i++) {
    publisher.publish(topic(i), `${prefix}${i}`, { qos: 1, messageId: i + 1 });
    await publisher.expect('puback');
  }
  publisher.send({ cmd: 'disconnect' });
  await publisher.closed;
}

/** Reads `count` PUBLISHes, acknowledging each QoS 1 one. */
async function receive(client: TestClient, count: number): Promise<mqtt.IPublishPacket[]> {
  const got: mqtt.IPublishPacket[] = [];
  while (got.length < count) {
    const packet = await client.expect('publish');
    got.push(packet);
    if (packet.qos === 1) client.send({ cmd: 'puback', messageId: packet.messageId ?? 0 });
  }
  return got;
}

const payloads = (packets: readonly mqtt.IPublishPacket[]): string[] => packets.map((p) => p.payload.toString());

async function offlineSubscriber(version: 4 | 5, filter: string): Promise<void> {
  const first = await harness.connected(version, 'dev', version === 5 ? persistentV5 : persistentV3);
  await first.subscribe([{ topic: filter, qos: 1 }]);
  first.send({ cmd: 'disconnect' });
  await first.closed;
}

describe('Offline delivery of persistent sessions', () => {
  it.each([4, 5] as const)('v%i: a resumed session receives, in order, the QoS 1 messages published while it was away', async (version) => {
    harness = new ProtocolHarness();
    await offlineSubscriber(version, 't/#');
    await publishStored((i) => `t/${i % 3}`, 30);
    const again = harness.client(version);
    expect((await again.connect({ clientId: 'dev', ...(version === 5 ? persistentV5 : persistentV3) })).sessionPresent).toBe(true);
    const got = await receive(again, 30);
    expect(payloads(got)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
    expect(got.every((p) => p.qos === 1 && !p.dup)).toBe(true);
    expect(await again.drain()).toEqual([]); // nothing twice
  });

  it('replays only what matches the subscriptions, and nothing published before the subscription', async () => {
    harness = new ProtocolHarness();
    await publishStored(() => 'a/early', 3, 'early');
    await offlineSubscriber(5, 'a/+');
    await publishStored((i) => (i % 2 === 0 ? 'a/x' : 'b/x'), 6);
    const again = harness.client(5);
    await again.connect({ clientId: 'dev', ...persistentV5 });
    expect(payloads(await receive(again, 3))).toEqual(['m0', 'm2', 'm4']);
    expect(await again.drain()).toEqual([]);
  });

  it('a message unacknowledged at disconnect is sent again with DUP, once; what was queued behind it follows', async () => {
    harness = new ProtocolHarness();
    const first = await harness.connected(5, 'dev', { ...persistentV5, properties: { ...persistentV5.properties, receiveMaximum: 1 } });
    await first.subscribe([{ topic: 't', qos: 1 }]);
    await publishStored(() => 't', 4);
    const unacked = await first.expect('publish'); // the window is 1: three more wait in the queue
    expect(unacked.payload.toString()).toBe('m0');
    first.destroy();
    await first.closed;
    const again = harness.client(5);
    expect((await again.connect({ clientId: 'dev', ...persistentV5 })).sessionPresent).toBe(true);
    const got = await receive(again, 4);
    expect(payloads(got)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(got[0]?.dup).toBe(true);
    expect(got[0]?.messageId).toBe(unacked.messageId);
    expect(await again.drain()).toEqual([]);
  });

  it('does not replay what the client acknowledged before it went away', async () => {
    harness = new ProtocolHarness();
    const first = await harness.connected(5, 'dev', persistentV5);
    await first.subscribe([{ topic: 't', qos: 1 }]);
    await publishStored(() => 't', 3, 'seen');
    await receive(first, 3);
    await first.ping(); // the acknowledgements were processed
    first.destroy();
    await first.closed;
    await publishStored(() => 't', 2, 'missed');
    const again = harness.client(5);
    await again.connect({ clientId: 'dev', ...persistentV5 });
    expect(payloads(await receive(again, 2))).toEqual(['missed0', 'missed1']);
    expect(await again.drain()).toEqual([]);
  });

  it('a cursor behind what retention kept is a gap: what remains is delivered and the gap is counted', async () => {
    const gaps: number[] = [];
    const metrics: ProtocolMetrics = { ...noMetrics, offlineGap: (missed) => gaps.push(missed) };
    harness = new ProtocolHarness({ metrics });
    await offlineSubscriber(5, 't');
    await publishStored(() => 't', 5);
    harness.backend.dropStoredThrough(3); // retention removed m0..m2
    const again = harness.client(5);
    await again.connect({ clientId: 'dev', ...persistentV5 });
    expect(payloads(await receive(again, 2))).toEqual(['m3', 'm4']);
    expect(gaps).toEqual([3]);
  });

  it('shared subscriptions are not replayed: the other members of the group had those messages', async () => {
    harness = new ProtocolHarness();
    await offlineSubscriber(5, '$share/g/t');
    await publishStored(() => 't', 2);
    const again = harness.client(5);
    expect((await again.connect({ clientId: 'dev', ...persistentV5 })).sessionPresent).toBe(true);
    expect(await again.drain()).toEqual([]);
  });

  it('a clean session gets nothing of what was published before it connected', async () => {
    harness = new ProtocolHarness();
    await offlineSubscriber(5, 't');
    await publishStored(() => 't', 2);
    const fresh = harness.client(5);
    expect((await fresh.connect({ clientId: 'dev', clean: true })).sessionPresent).toBe(false);
    expect(await fresh.drain()).toEqual([]);
  });
});

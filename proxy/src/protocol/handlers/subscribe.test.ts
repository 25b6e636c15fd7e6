import { afterEach, describe, expect, it } from '@jest/globals';
import type mqtt from 'mqtt-packet';
import { ProtocolHarness, type TestClient } from '../../test-support/protocol-harness.js';
import { ReasonCode, SubackFailure311 } from '../reason-codes.js';

let harness: ProtocolHarness;
afterEach(async () => harness.close());

function connected(version: 4 | 5, clientId: string, connect: Partial<mqtt.IConnectPacket> = {}): Promise<TestClient> {
  return harness.connected(version, clientId, connect);
}

/** Publishes at QoS 1 and waits for PUBACK: the message reached every subscriber (and the retained store). */
async function publishStored(pub: TestClient, topic: string, payload: string, fields: Partial<mqtt.IPublishPacket> = {}): Promise<void> {
  pub.publish(topic, payload, { qos: 1, messageId: 1, ...fields });
  await pub.expect('puback');
}

/** Payloads of the next `count` PUBLISHes. */
async function payloads(client: TestClient, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((await client.expect('publish')).payload.toString());
  return out;
}

describe('SUBSCRIBE: SUBACK codes', () => {
  it('answers each filter with its own code, in order: the granted QoS or 0x8F [MQTT-3.8.4-6] [MQTT-3.9.3-1]', async () => {
    harness = new ProtocolHarness();
    const client = await connected(5, 'c');
    const suback = await client.subscribe([
      { topic: 'a/+', qos: 0 },
      { topic: 'a/#/b', qos: 1 },
      { topic: 'b', qos: 2 },
      { topic: '$share/g/c/#', qos: 1 },
    ]);
    expect([suback.messageId, suback.granted]).toEqual([1, [0, ReasonCode.TopicFilterInvalid, 2, 1]]);
  });

  it('v3.1.1: answers an invalid filter with 0x80 and grants the others [MQTT-3.8.4-7]', async () => {
    harness = new ProtocolHarness();
    const client = await connected(4, 'c');
    expect((await client.subscribe([{ topic: 'x#', qos: 1 }, { topic: 'y', qos: 1 }])).granted).toEqual([SubackFailure311, 1]);
  });

  it.each([
    ['a/#/b', "'#' not last [MQTT-4.7.1-1]"],
    ['a/b#', "'#' not alone in its level [MQTT-4.7.1-1]"],
    ['a+/b', "'+' not alone in its level [MQTT-4.7.1-2]"],
    ['$share//a', 'empty share name [MQTT-4.8.2-1]'],
    ['$share/g', 'share name without a filter [MQTT-4.8.2-2]'],
    ['$share/g+/a', "'+' in a share name [MQTT-4.8.2-2]"],
  ])('refuses %j (%s) with 0x8F', async (topic) => {
    harness = new ProtocolHarness();
    const client = await connected(5, 'c');
    expect((await client.subscribe([{ topic, qos: 0 }])).granted).toEqual([ReasonCode.TopicFilterInvalid]);
  });

  it.each([
    [5, '0x97', ReasonCode.QuotaExceeded],
    [4, '0x80', SubackFailure311],
  ] as const)('v%i: refuses a subscription beyond the per-session quota with %s, while replacing one still works', async (version, _name, code) => {
    harness = new ProtocolHarness({ limits: { maxSubscriptionsPerSession: 2 } });
    const client = await connected(version, 'c');
    expect((await client.subscribe([{ topic: 'a', qos: 0 }, { topic: 'b', qos: 0 }, { topic: 'c', qos: 0 }])).granted).toEqual([0, 0, code]);
    expect((await client.subscribe([{ topic: 'a', qos: 1 }], undefined, 2)).granted).toEqual([1]);
  });
});

describe('SUBSCRIBE: options', () => {
  it('replaces a subscription with the same filter: one copy, at the new QoS [MQTT-3.8.4-3]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 't', qos: 0 }]);
    await sub.subscribe([{ topic: 't', qos: 2 }], undefined, 2);
    const pub = await connected(5, 'pub');
    pub.publish('t', 'm', { qos: 2, messageId: 1 });
    await pub.expect('pubrec');
    expect((await sub.expect('publish')).qos).toBe(2);
    await sub.ping(); // no second copy
  });

  it('does not send a client its own messages on a No Local subscription, but others’ [MQTT-3.8.3-3]', async () => {
    harness = new ProtocolHarness();
    const self = await connected(5, 'self');
    await self.subscribe([{ topic: 't', qos: 1, nl: true }]);
    await publishStored(self, 't', 'own');
    const other = await connected(5, 'other');
    await publishStored(other, 't', 'theirs');
    expect(await payloads(self, 1)).toEqual(['theirs']);
  });

  it('sends a client its own messages without No Local', async () => {
    harness = new ProtocolHarness();
    const self = await connected(5, 'self');
    await self.subscribe([{ topic: 't', qos: 0 }]);
    self.publish('t', 'own');
    expect(await payloads(self, 1)).toEqual(['own']);
  });

  it.each([
    [true, true],
    [false, false],
  ])('forwards a live retained message with RETAIN %s when Retain As Published is %s [MQTT-3.3.1-12] [MQTT-3.3.1-13]', async (rap, expected) => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 't', qos: 0, rap }]);
    const pub = await connected(5, 'pub');
    pub.publish('t', 'r', { retain: true });
    expect((await sub.expect('publish')).retain).toBe(expected);
  });

  it('v3.1.1: forwards a live message with RETAIN 0 even when it was published retained [MQTT-3.3.1-9 in 3.1.1]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(4, 'sub');
    await sub.subscribe([{ topic: 't', qos: 0 }]);
    const pub = await connected(4, 'pub');
    pub.publish('t', 'r', { retain: true });
    expect((await sub.expect('publish')).retain).toBe(false);
  });
});

describe('SUBSCRIBE: retained messages', () => {
  it.each([4, 5] as const)('v%i: sends the retained messages matching a new subscription with RETAIN 1 [MQTT-3.3.1-8 in 3.1.1] [MQTT-3.3.1-9]', async (version) => {
    harness = new ProtocolHarness();
    const pub = await connected(version, 'pub');
    await publishStored(pub, 'r/1', 'one', { retain: true });
    await publishStored(pub, 'r/2', 'two', { retain: true });
    await publishStored(pub, 'other', 'no', { retain: true });
    const sub = await connected(version, 'sub');
    await sub.subscribe([{ topic: 'r/+', qos: 1 }]);
    const first = await sub.expect('publish');
    const second = await sub.expect('publish');
    expect([first, second].map((p) => [p.payload.toString(), p.retain]).sort()).toEqual([
      ['one', true],
      ['two', true],
    ]);
  });

  it('deletes the retained message of a topic on an empty retained payload [MQTT-3.3.1-6] [MQTT-3.3.1-7]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    await publishStored(pub, 'r/1', 'gone', { retain: true });
    await publishStored(pub, 'r/1', '', { retain: true });
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 'r/#', qos: 1 }]);
    await publishStored(pub, 'r/1', 'live');
    expect(await payloads(sub, 1)).toEqual(['live']);
  });

  it('keeps the retained message when a later PUBLISH on the topic has RETAIN 0 [MQTT-3.3.1-8]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    await publishStored(pub, 'r/1', 'kept', { retain: true });
    await publishStored(pub, 'r/1', 'not-retained');
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 'r/1', qos: 0 }]);
    expect(await payloads(sub, 1)).toEqual(['kept']);
  });

  it.each([
    [0, 'on every SUBSCRIBE', '[MQTT-3.3.1-9] [MQTT-3.8.4-4]', 2],
    [1, 'only when the subscription is new', '[MQTT-3.3.1-10]', 1],
    [2, 'never', '[MQTT-3.3.1-11]', 0],
  ] as const)('with Retain Handling %i sends retained messages %s %s', async (rh, _when, _clause, count) => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    await publishStored(pub, 'r/1', 'kept', { retain: true });
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 'r/1', qos: 0, rh }]);
    let received = 0;
    if (count > 0) {
      await sub.expect('publish');
      received++;
    }
    sub.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'r/1', qos: 0, rh }] });
    await sub.expect('suback');
    if (count > 1) {
      await sub.expect('publish');
      received++;
    }
    await sub.ping();
    expect(received).toBe(count);
  });

  it('does not send a retained message whose expiry passed [MQTT-3.3.2-5], and sends the remaining interval of one that has not [MQTT-3.3.2-6]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    await publishStored(pub, 'r/short', 'short', { retain: true, properties: { messageExpiryInterval: 10 } });
    await publishStored(pub, 'r/long', 'long', { retain: true, properties: { messageExpiryInterval: 100 } });
    harness.clock.advance(30_000);
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 'r/#', qos: 0 }]);
    const delivered = await sub.expect('publish');
    expect([delivered.payload.toString(), delivered.properties?.messageExpiryInterval]).toEqual(['long', 70]);
    await sub.ping();
  });
});

describe('SUBSCRIBE: identifiers, $ topics and shared subscriptions', () => {
  it('puts the Subscription Identifier on live and retained deliveries [MQTT-3.3.4-3] [MQTT-3.3.4-5]', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    await publishStored(pub, 'r/1', 'retained', { retain: true });
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 'r/#', qos: 0 }], { subscriptionIdentifier: 7 });
    expect((await sub.expect('publish')).properties?.subscriptionIdentifier).toBe(7);
    await publishStored(pub, 'r/2', 'live');
    expect((await sub.expect('publish')).properties?.subscriptionIdentifier).toBe(7);
  });

  it('sends one copy per overlapping subscription, each with its own identifier [MQTT-3.3.4-5]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 'a/+', qos: 0 }], { subscriptionIdentifier: 1 });
    await sub.subscribe([{ topic: 'a/#', qos: 0 }], { subscriptionIdentifier: 2 }, 2);
    const pub = await connected(5, 'pub');
    pub.publish('a/b', 'x');
    const ids = [await sub.expect('publish'), await sub.expect('publish')].map((p) => p.properties?.subscriptionIdentifier);
    expect(ids.sort()).toEqual([1, 2]);
  });

  it.each(['#', '+/status', '+/+'])('does not match %j with a topic starting with $ [MQTT-4.7.2-1]', async (filter) => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: filter, qos: 0 }]);
    const pub = await connected(5, 'pub');
    await publishStored(pub, '$dev/status', 'hidden', { retain: true });
    await publishStored(pub, 'dev/status', 'seen');
    expect(await payloads(sub, 1)).toEqual(['seen']);
    const late = await connected(5, 'late');
    await late.subscribe([{ topic: filter, qos: 0 }]); // nor the retained one
    await late.ping();
  });

  it('matches a $ topic with a filter that starts with the same $ level [MQTT-4.7.2-1]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: '$dev/#', qos: 0 }]);
    const pub = await connected(5, 'pub');
    pub.publish('$dev/status', 'shown');
    expect(await payloads(sub, 1)).toEqual(['shown']);
  });

  it('delivers each message of a shared subscription to exactly one member (MQTT 5 §4.8.2)', async () => {
    harness = new ProtocolHarness();
    const members = [await connected(5, 'm1'), await connected(5, 'm2')];
    for (const member of members) await member.subscribe([{ topic: '$share/g/jobs/+', qos: 1 }]);
    const pub = await connected(5, 'pub');
    for (let i = 0; i < 4; i++) await publishStored(pub, `jobs/${i}`, `job-${i}`, { messageId: i + 1 });
    const got: string[][] = [];
    for (const member of members) {
      got.push((await member.drain()).map((p) => (p.cmd === 'publish' ? p.payload.toString() : p.cmd)));
    }
    expect(got.flat().sort()).toEqual(['job-0', 'job-1', 'job-2', 'job-3']);
    expect(got.every((mine) => mine.length > 0)).toBe(true);
  });

  it('does not send retained messages to a new shared subscription (MQTT 5 §4.8.2)', async () => {
    harness = new ProtocolHarness();
    const pub = await connected(5, 'pub');
    await publishStored(pub, 'jobs/1', 'retained', { retain: true });
    const member = await connected(5, 'm1');
    await member.subscribe([{ topic: '$share/g/jobs/#', qos: 0 }]);
    await member.ping();
  });

  it('disconnects with 0x82 a shared subscription with No Local [MQTT-3.8.3-4]', async () => {
    harness = new ProtocolHarness();
    const client = await connected(5, 'c');
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/t', qos: 0, nl: true }] });
    expect((await client.expect('disconnect')).reasonCode).toBe(ReasonCode.ProtocolError);
    await client.closed;
  });
});

describe('UNSUBSCRIBE', () => {
  it('answers each filter with 0x00 or 0x11, in order, and stops its deliveries [MQTT-3.10.4-1] [MQTT-3.11.3-1]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(5, 'sub');
    await sub.subscribe([{ topic: 'a', qos: 0 }, { topic: '$share/g/b', qos: 0 }, { topic: 'c', qos: 0 }]);
    sub.send({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['a', 'never', '$share/g/b', 'x/#/y'] });
    const unsuback = await sub.expect('unsuback');
    expect([unsuback.messageId, unsuback.granted]).toEqual([
      4,
      [ReasonCode.Success, ReasonCode.NoSubscriptionExisted, ReasonCode.Success, ReasonCode.TopicFilterInvalid],
    ]);
    const pub = await connected(5, 'pub');
    for (const topic of ['a', 'b', 'c']) pub.publish(topic, topic);
    expect(await payloads(sub, 1)).toEqual(['c']);
    await sub.ping();
  });

  it('v3.1.1: answers UNSUBACK with the packet identifier, even when nothing was subscribed [MQTT-3.10.4-5 in 3.1.1]', async () => {
    harness = new ProtocolHarness();
    const sub = await connected(4, 'sub');
    sub.send({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: ['never'] });
    expect((await sub.expect('unsuback')).messageId).toBe(9);
  });
});

// Deliveries of every size through Connection.sendPublish: below 512 B the payload is copied into the packet, from
// 512 B on it follows its header as a second write. Either way the subscriber's parser (mqtt-packet) must read the
// same packet, and a v5 subscriber's Maximum Packet Size must count the payload.
import { afterEach, describe, expect, it } from '@jest/globals';
import { ProtocolHarness } from '../test-support/protocol-harness.js';

let harness: ProtocolHarness;
afterEach(async () => harness.close());

const SIZES = [0, 1, 511, 512, 4_096, 70_000];

describe('deliveries of small and large payloads', () => {
  it.each([4, 5] as const)('v%i: each size arrives whole, in order, at QoS 0 and 1', async (version) => {
    harness = new ProtocolHarness();
    const sub = await harness.connected(version, 'sub');
    await sub.subscribe([{ topic: 'size/#', qos: 1 }]);
    const pub = await harness.connected(version, 'pub');
    const payloads = SIZES.map((size, i) => Buffer.alloc(size, i + 1));
    for (const [i, payload] of payloads.entries()) pub.publish(`size/${i}`, payload, { qos: (i % 2) as 0 | 1, ...(i % 2 === 1 ? { messageId: i } : {}) });
    for (const [i, payload] of payloads.entries()) {
      const delivery = await sub.expect('publish');
      expect({ topic: delivery.topic, qos: delivery.qos, bytes: Buffer.from(delivery.payload).equals(payload) }).toEqual({ topic: `size/${i}`, qos: i % 2, bytes: true });
      if (delivery.qos === 1) sub.send({ cmd: 'puback', messageId: delivery.messageId ?? 0 });
    }
  });

  it("v5: a large delivery above the subscriber's Maximum Packet Size is not sent [MQTT-3.1.2-24]", async () => {
    harness = new ProtocolHarness();
    const sub = await harness.connected(5, 'small', { properties: { maximumPacketSize: 1_000 } });
    await sub.subscribe([{ topic: 'big', qos: 0 }]);
    const pub = await harness.connected(5, 'pub');
    pub.publish('big', Buffer.alloc(995, 1)); // 995 B of payload + topic, property length and fixed header: 1,004
    pub.publish('big', Buffer.alloc(900, 2));
    const delivery = await sub.expect('publish');
    expect(delivery.payload.length).toBe(900);
  });
});

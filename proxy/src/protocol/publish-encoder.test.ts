// Differential test of the encoding fast path (publish-encoder.ts) against mqtt-packet's generate: thousands of
// generated deliveries and acknowledgements, v3.1.1 and v5, encoded by both and compared byte for byte. The
// reference packet is built the way PublishSender built it for mqtt-packet before the fast path.
import { describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt-packet';
import type { IPublishPacket } from 'mqtt-packet';
import type { ForwardedProperties, UserProperties } from '../backend/message.js';
import { SeededRandom } from '../test-support/seeded-random.js';
import { asBuffer } from '../bytes.js';
import { encodeAck, encodePublish } from './publish-encoder.js';
import type { OutboundPublish } from './publish-encoder.js';

const COUNT = 5_000;
const CHARACTERS = ['a', 'b', '/', 'z', '0', 'é', '€', '😀', ' ', '\ud800'];

/** PublishSender's properties before the fast path: forwarded ones, expiry, alias, subscription identifiers. */
function referenceProperties(publish: OutboundPublish): NonNullable<IPublishPacket['properties']> {
  const f = publish.forwarded ?? {};
  const ids = publish.subscriptionIds;
  return {
    ...(f.payloadFormatIndicator === undefined ? {} : { payloadFormatIndicator: f.payloadFormatIndicator }),
    ...(f.contentType === undefined ? {} : { contentType: f.contentType }),
    ...(f.responseTopic === undefined ? {} : { responseTopic: f.responseTopic }),
    ...(f.correlationData === undefined ? {} : { correlationData: Buffer.from(f.correlationData) }),
    ...(f.userProperties === undefined ? {} : { userProperties: f.userProperties }),
    ...(publish.messageExpiryInterval === undefined ? {} : { messageExpiryInterval: publish.messageExpiryInterval }),
    ...(publish.topicAlias === undefined ? {} : { topicAlias: publish.topicAlias }),
    ...(ids === undefined || ids.length === 0 ? {} : { subscriptionIdentifier: ids.length === 1 ? (ids[0] ?? 0) : [...ids] }),
  };
}

function reference(publish: OutboundPublish, protocolVersion: number): Buffer {
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: publish.topic,
    payload: asBuffer(publish.payload),
    qos: publish.qos,
    dup: publish.dup,
    retain: publish.retain,
  };
  if (publish.packetId !== undefined) packet.messageId = publish.packetId;
  if (protocolVersion === 5) packet.properties = referenceProperties(publish);
  return mqtt.generate(packet, { protocolVersion });
}

function userProperties(random: SeededRandom): UserProperties {
  const out: Record<string, string | string[]> = {};
  for (let i = random.int(1, 4); i > 0; i--) {
    const name = random.text(random.int(0, 4), CHARACTERS);
    out[name] = random.chance(0.3) ? [random.text(2, CHARACTERS), random.text(random.int(0, 3), CHARACTERS)] : random.text(random.int(0, 5), CHARACTERS);
  }
  return out;
}

function forwarded(random: SeededRandom): ForwardedProperties | undefined {
  if (random.chance(0.5)) return undefined;
  return {
    ...(random.chance(0.3) ? { payloadFormatIndicator: random.chance(0.5) } : {}),
    ...(random.chance(0.3) ? { contentType: random.text(random.int(0, 8), CHARACTERS) } : {}),
    ...(random.chance(0.3) ? { responseTopic: random.text(random.int(1, 8), CHARACTERS) } : {}),
    ...(random.chance(0.3) ? { correlationData: new Uint8Array(random.bytes(random.int(0, 20))) } : {}),
    ...(random.chance(0.3) ? { userProperties: userProperties(random) } : {}),
  };
}

function delivery(random: SeededRandom): OutboundPublish {
  const qos = random.pick([0, 1, 2] as const);
  const aliased = random.chance(0.2);
  return {
    topic: aliased && random.chance(0.5) ? '' : random.text(random.int(1, 20), CHARACTERS),
    // a Buffer, or a Uint8Array as nats.js delivers message data
    payload: random.chance(0.5) ? random.bytes(random.pick([0, 1, 127, 128, 300, 20_000])) : new Uint8Array(random.bytes(random.int(0, 300))),
    qos,
    dup: qos > 0 && random.chance(0.2),
    retain: random.chance(0.2),
    packetId: qos > 0 ? random.int(1, 65_535) : undefined,
    forwarded: forwarded(random),
    messageExpiryInterval: random.chance(0.2) ? random.int(1, 0xffffffff) : undefined,
    topicAlias: aliased ? random.int(1, 65_535) : undefined,
    subscriptionIds: random.chance(0.3) ? Array.from({ length: random.int(1, 3) }, () => random.pick([1, 127, 128, 16_383, 16_384, 268_435_455])) : undefined,
  };
}

describe('the encoding fast path against mqtt-packet', () => {
  it(`${COUNT} generated deliveries encode to mqtt-packet's bytes at v3.1.1, v3.1 and v5`, () => {
    const random = new SeededRandom(0xc0de);
    let compared = 0;
    for (let i = 0; i < COUNT; i++) {
      const version = random.pick([3, 4, 5]);
      const publish = delivery(random);
      const expected = reference(publish, version);
      const label = `#${i} v${version}`;
      const actual = encodePublish(publish, version);
      // compared as Buffers first: printing 20 kB payloads in hex for every packet would take seconds
      if (!actual.equals(expected)) expect({ label, hex: actual.toString('hex') }).toEqual({ label, hex: expected.toString('hex') });
      compared += 1;
      // without its payload: the same bytes up to where the payload starts
      const head = encodePublish(publish, version, false);
      expect(Buffer.concat([head, asBuffer(publish.payload)]).equals(expected)).toBe(true);
    }
    expect(compared).toBe(COUNT);
  });

  it('encodes acknowledgements as mqtt-packet does, a v5 reason code absent or present', () => {
    const random = new SeededRandom(0xacc);
    for (let i = 0; i < COUNT; i++) {
      const cmd = random.pick(['puback', 'pubrec', 'pubrel', 'pubcomp'] as const);
      const version = random.pick([3, 4, 5]);
      const messageId = random.int(0, 65_535);
      const reasonCode = random.chance(0.5) ? random.pick([0, 0x10, 0x80, 0x92, 0x99]) : undefined;
      const expected = mqtt.generate({ cmd, messageId, ...(reasonCode === undefined ? {} : { reasonCode }) }, { protocolVersion: version });
      const label = `#${i} ${cmd} v${version} ${String(reasonCode)}`;
      expect({ label, hex: encodeAck(cmd, messageId, reasonCode, version).toString('hex') }).toEqual({ label, hex: expected.toString('hex') });
    }
  });

  it('writes the header, the identifier and the payload where MQTT puts them', () => {
    const publish: OutboundPublish = {
      topic: 'a/b',
      payload: Buffer.from('hi'),
      qos: 1,
      dup: true,
      retain: true,
      packetId: 0x0102,
      forwarded: undefined,
      messageExpiryInterval: undefined,
      topicAlias: undefined,
      subscriptionIds: undefined,
    };
    expect([...encodePublish(publish, 4)]).toEqual([0x3b, 9, 0, 3, 0x61, 0x2f, 0x62, 1, 2, 0x68, 0x69]);
    expect([...encodePublish({ ...publish, topicAlias: 5 }, 5)]).toEqual([0x3b, 13, 0, 3, 0x61, 0x2f, 0x62, 1, 2, 3, 0x23, 0, 5, 0x68, 0x69]);
    expect([...encodeAck('pubrel', 7, undefined, 4)]).toEqual([0x62, 2, 0, 7]);
  });
});

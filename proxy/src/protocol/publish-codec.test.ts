// Differential test of the decoding fast path (publish-codec.ts) against mqtt-packet's parser: thousands of
// generated PUBLISH and PUBACK/PUBREC/PUBREL/PUBCOMP packets, v3.1.1 and v5, valid and corrupted, decoded by both.
// Whatever the fast path decodes must be the packet mqtt-packet makes of the same bytes (fields, their order,
// values); through PacketDecoder and the checks the handlers run first (checkDecodedPacket), both must end alike:
// the same packet, or the same error class and reason code.
import { describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { ProtocolError } from '../errors.js';
import { SeededRandom } from '../test-support/seeded-random.js';
import { checkDecodedPacket } from './packet-checks.js';
import { PacketDecoder } from './packet-decoder.js';
import { decodeDataPacket } from './publish-codec.js';

const COUNT = 6_000;
const TOPIC_CHARACTERS = ['a', 'b', '/', 'z', '0', '+', '#', '$', 'é', '€', '😀', ' '];
const ACKS = ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const;
const REASON_CODES = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x92, 0x97, 0x99, 0x01, 0xff];

/** A packet as a comparable value: its own fields in order, Buffers as hex, nested objects likewise. */
function shape(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `hex:${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([key, field]) => [key, shape(field)]);
  return value;
}

/** mqtt-packet alone, as PacketDecoder used it before the fast path: the packet, or why it was refused. */
function reference(bytes: Buffer, protocolVersion: number): { packet?: Packet; failure?: string } {
  const parser = mqtt.parser({ protocolVersion });
  const packets: Packet[] = [];
  let failure: string | undefined;
  parser.on('packet', (packet: Packet) => packets.push(packet));
  parser.on('error', (err: Error) => (failure ??= err.message));
  const left = parser.parse(bytes);
  if (failure !== undefined) return { failure };
  const packet = packets[0];
  if (packet === undefined || packets.length !== 1 || left !== 0) return { failure: 'not exactly one packet' };
  return { packet };
}

/** What the handlers receive: the packet, or the error's class and reason code. */
function outcome(decode: () => Packet): unknown {
  try {
    const packet = decode();
    checkDecodedPacket(packet);
    return shape(packet);
  } catch (err: unknown) {
    return err instanceof ProtocolError ? { error: 'ProtocolError', reasonCode: err.reasonCode } : { error: String(err) };
  }
}

function remainingLength(length: number): number[] {
  const out: number[] = [];
  let rest = length;
  do {
    out.push((rest % 128) | (rest >= 128 ? 0x80 : 0));
    rest = Math.floor(rest / 128);
  } while (rest > 0);
  return out;
}

/** A packet with this first byte and body, its Remaining Length recomputed: FrameGuard lets it through. */
function framed(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first, ...remainingLength(body.length)]), body]);
}

function userProperties(random: SeededRandom): Record<string, string | string[]> {
  const names = ['a', 'b', 'é'];
  const out: Record<string, string | string[]> = {};
  for (let i = random.int(1, 3); i > 0; i--) out[random.pick(names)] = random.chance(0.3) ? ['x', random.text(2, TOPIC_CHARACTERS)] : random.text(3, TOPIC_CHARACTERS);
  return out;
}

function publishProperties(random: SeededRandom): NonNullable<mqtt.IPublishPacket['properties']> {
  return {
    ...(random.chance(0.3) ? { payloadFormatIndicator: random.chance(0.5) } : {}),
    ...(random.chance(0.3) ? { messageExpiryInterval: random.int(0, 100_000) } : {}),
    ...(random.chance(0.3) ? { topicAlias: random.int(0, 20) } : {}),
    ...(random.chance(0.2) ? { contentType: random.text(4, TOPIC_CHARACTERS) } : {}),
    ...(random.chance(0.2) ? { responseTopic: random.text(4, TOPIC_CHARACTERS) } : {}),
    ...(random.chance(0.2) ? { correlationData: random.bytes(random.int(0, 9)) } : {}),
    ...(random.chance(0.2) ? { userProperties: userProperties(random) } : {}),
    ...(random.chance(0.1) ? { subscriptionIdentifier: random.int(1, 300) } : {}),
  };
}

/** One property as raw bytes: the ones a PUBLISH carries, others mqtt-packet knows, unknown ids, bad lengths. */
function rawProperty(random: SeededRandom): number[] {
  const text = (): number[] => {
    const bytes = [...Buffer.from(random.chance(0.2) ? '' : random.text(random.int(1, 3), TOPIC_CHARACTERS))];
    return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
  };
  switch (random.int(0, 9)) {
    case 0:
      return [0x01, random.pick([0, 1, 2])];
    case 1:
      return [0x02, ...random.bytes(4)];
    case 2:
      return [0x23, 0, random.int(0, 20)];
    case 3:
      return [random.pick([0x03, 0x08]), ...text()];
    case 4:
      return [0x09, ...text()];
    case 5:
      return [0x0b, ...random.pick([[0x01], [0x80, 0x01], [0xff, 0xff, 0xff, 0x7f], [0x80, 0x80, 0x80, 0x80]])];
    case 6:
    case 7: // user properties, names often repeated
      return [0x26, ...[0, 1, random.pick([0x61, 0x62])], ...text()];
    case 8: // known to mqtt-packet, not a PUBLISH property: Session Expiry Interval, Receive Maximum, Reason String
      return random.pick([[0x11, 0, 0, 0, 5], [0x21, 0, 9], [0x1f, 0, 1, 0x78]]);
    default: // unknown or reserved identifiers
      return [random.pick([0x00, 0x04, 0x7f, 0xff])];
  }
}

/** A v5 PUBLISH with a property block built byte by byte (sometimes with a Property Length that lies). */
function rawPropertiesPublish(random: SeededRandom): Buffer {
  const properties: number[] = [];
  for (let i = random.int(1, 4); i > 0; i--) properties.push(...rawProperty(random));
  const declared = random.chance(0.85) ? properties.length : random.int(0, properties.length + 3);
  const qos = random.int(0, 2);
  const topic = [0, 3, 0x61, 0x2f, 0x62];
  const body = [...topic, ...(qos > 0 ? [0, 7] : []), ...remainingLength(declared), ...properties, ...random.bytes(random.int(0, 8))];
  return framed(0x30 | (qos << 1), Buffer.from(body));
}

function validPublish(random: SeededRandom, version: number): Buffer {
  if (version === 5 && random.chance(0.25)) return rawPropertiesPublish(random);
  const qos = random.pick([0, 1, 2] as const);
  const properties = version === 5 && random.chance(0.3) ? publishProperties(random) : undefined;
  return mqtt.generate(
    {
      cmd: 'publish',
      topic: random.text(random.int(0, 12), TOPIC_CHARACTERS),
      payload: random.bytes(random.pick([0, 1, 16, 128, 300])),
      qos,
      dup: random.chance(0.2),
      retain: random.chance(0.2),
      ...(qos > 0 ? { messageId: random.chance(0.05) ? 0 : random.int(1, 65_535) } : {}),
      ...(properties === undefined ? {} : { properties }),
    },
    { protocolVersion: version },
  );
}

function validAck(random: SeededRandom, version: number): Buffer {
  const cmd = random.pick(ACKS);
  const reasonCode = version === 5 && random.chance(0.5) ? random.pick(REASON_CODES) : undefined;
  const properties = version === 5 && random.chance(0.15) ? { reasonString: random.text(3, TOPIC_CHARACTERS) } : undefined;
  return mqtt.generate(
    {
      cmd,
      messageId: random.int(0, 65_535),
      ...(reasonCode === undefined ? {} : { reasonCode }),
      ...(properties === undefined ? {} : { properties }),
    },
    { protocolVersion: version },
  );
}

/** Damages a packet the ways a hostile client would, keeping one whole packet as FrameGuard delivers it. */
function corrupt(random: SeededRandom, packet: Buffer): Buffer {
  const first = packet[0] ?? 0;
  const bodyStart = packet.length - packetBodyLength(packet);
  const body = Buffer.from(packet.subarray(bodyStart));
  switch (random.int(0, 5)) {
    case 0: // flip the fixed header's flags (QoS 3, PUBREL without 0010, stray bits on acks)
      return framed((first & 0xf0) | random.int(0, 15), body);
    case 1: // a byte of the body changed (lengths, identifiers, property ids, reason codes, UTF-8)
      if (body.length > 0) body[random.int(0, body.length - 1)] = random.int(0, 255);
      return framed(first, body);
    case 2: // truncated: a field overruns the packet
      return framed(first, body.subarray(0, random.int(0, Math.max(0, body.length - 1))));
    case 3: // extended: bytes beyond the fields
      return framed(first, Buffer.concat([body, random.bytes(random.int(1, 4))]));
    case 4: // a random body under a data-plane type
      return framed((random.int(3, 7) << 4) | random.int(0, 15), random.bytes(random.int(0, 12)));
    default: // a Remaining Length that disagrees with the bytes
      return Buffer.concat([packet.subarray(0, bodyStart), random.bytes(random.int(0, 2))]).subarray(0, Math.max(2, packet.length - random.int(0, 2)));
  }
}

function packetBodyLength(packet: Buffer): number {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i < 5; i++) {
    const byte = packet[i] ?? 0;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) break;
    multiplier *= 128;
  }
  return length;
}

describe('the decoding fast path against mqtt-packet', () => {
  it(`${COUNT} generated PUBLISH and acknowledgement packets (v3.1.1 and v5, valid and corrupted) end alike`, () => {
    const random = new SeededRandom(0x5eed);
    const decoder = new PacketDecoder();
    const taken = { fast: 0, fastWithProperties: 0, fallback: 0, refused: 0 };
    for (let i = 0; i < COUNT; i++) {
      const version = random.pick([4, 5]);
      const valid = random.chance(0.5) ? validPublish(random, version) : validAck(random, version);
      const bytes = random.chance(0.4) ? corrupt(random, valid) : valid;
      const fast = decodeDataPacket(bytes, version);
      const expected = reference(bytes, version);
      const label = `#${i} v${version} ${bytes.toString('hex')}`;
      if (fast !== undefined) {
        taken.fast += 1;
        if (fast.cmd === 'publish' && fast.properties !== undefined) taken.fastWithProperties += 1;
        // the fast path never accepts what mqtt-packet refuses, and builds the same object
        expect({ label, packet: shape(fast) }).toEqual({ label, packet: shape(expected.packet) });
      } else taken.fallback += 1;
      if (expected.failure !== undefined) taken.refused += 1;
      const viaDecoder = outcome(() => decoder.decode(bytes, { protocolVersion: version }));
      const viaReference = outcome(() => {
        if (expected.packet === undefined) throw new ProtocolError(0x81, expected.failure ?? '');
        return expected.packet;
      });
      expect({ label, result: viaDecoder }).toEqual({ label, result: viaReference });
    }
    // the generator reaches both paths and mqtt-packet's errors
    expect(taken.fast).toBeGreaterThan(COUNT / 3);
    expect(taken.fastWithProperties).toBeGreaterThan(COUNT / 20);
    expect(taken.fallback).toBeGreaterThan(COUNT / 10);
    expect(taken.refused).toBeGreaterThan(COUNT / 20);
  });

  it('takes the common forms and leaves repeated or foreign properties and bad flags to mqtt-packet', () => {
    const publish = (version: number): Buffer =>
      mqtt.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 1, messageId: 7, dup: false, retain: true }, { protocolVersion: version });
    expect(decodeDataPacket(publish(4), 4)).toMatchObject({ cmd: 'publish', topic: 'a/b', qos: 1, messageId: 7, retain: true });
    expect(decodeDataPacket(publish(5), 5)).toMatchObject({ cmd: 'publish', topic: 'a/b', messageId: 7 });
    const withAlias = mqtt.generate({ cmd: 'publish', topic: '', payload: Buffer.alloc(0), qos: 0, dup: false, retain: false, properties: { topicAlias: 1 } }, { protocolVersion: 5 });
    expect(decodeDataPacket(withAlias, 5)).toMatchObject({ topic: '', properties: { topicAlias: 1 } });
    const twice = Buffer.from([0x30, 0x0a, 0, 1, 0x61, 6, 0x23, 0, 1, 0x23, 0, 2]);
    expect(decodeDataPacket(twice, 5)).toBeUndefined(); // a Topic Alias given twice: mqtt-packet's list, then refused
    expect(decodeDataPacket(Buffer.from([0x30, 0x06, 0, 1, 0x61, 2, 0x11, 0]), 5)).toBeUndefined(); // not a PUBLISH property
    expect(decodeDataPacket(Buffer.from([0x62, 0x02, 0x00, 0x05]), 4)).toMatchObject({ cmd: 'pubrel', qos: 1, messageId: 5 });
    expect(decodeDataPacket(Buffer.from([0x60, 0x02, 0x00, 0x05]), 4)).toBeUndefined(); // [MQTT-3.6.1-1]
    expect(decodeDataPacket(Buffer.from([0x40, 0x03, 0x00, 0x05, 0x10]), 5)).toMatchObject({ cmd: 'puback', reasonCode: 0x10 });
    expect(decodeDataPacket(Buffer.from([0x40, 0x03, 0x00, 0x05, 0x92]), 5)).toBeUndefined(); // not a PUBACK code
    expect(decodeDataPacket(Buffer.from([0xc0, 0x00]), 4)).toBeUndefined();
  });
});

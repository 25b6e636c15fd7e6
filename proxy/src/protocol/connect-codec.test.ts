// Differential test of the CONNECT fast path (connect-codec.ts) against mqtt-packet's parser: generated CONNECTs
// at levels 3 and 4 (and 5, which it leaves alone), valid and corrupted. Whatever the fast path decodes must be
// the object mqtt-packet makes of the same bytes, field for field and in the same order.
import { describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt-packet';
import type { IConnectPacket, Packet } from 'mqtt-packet';
import { SeededRandom } from '../test-support/seeded-random.js';
import { decodeConnect } from './connect-codec.js';
import { PacketDecoder } from './packet-decoder.js';

const COUNT = 4_000;
const CHARACTERS = ['a', 'Z', '-', '0', '/', 'é', '€', '😀', ' ', '{', '%'];

/** Fields in order, Buffers as hex: two packets with the same shape are the same packet. */
function fields(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `hex:${value.toString('hex')}`;
  if (value === null || typeof value !== 'object') return value;
  return Object.entries(value).map(([key, field]) => [key, fields(field)]);
}

/** What a fresh mqtt-packet parser makes of `bytes`: one packet, or undefined. */
function byMqttPacket(bytes: Buffer): Packet | undefined {
  const parser = mqtt.parser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  const errors: unknown[] = [];
  parser.on('packet', (packet: Packet) => packets.push(packet));
  parser.on('error', (err: unknown) => errors.push(err));
  const left = parser.parse(bytes);
  return errors.length > 0 || left !== 0 || packets.length !== 1 ? undefined : packets[0];
}

function text(random: SeededRandom, max: number): string {
  let out = '';
  for (let n = random.int(0, max); n > 0; n--) out += random.pick(CHARACTERS);
  return out;
}

function generated(random: SeededRandom): Buffer {
  const protocolVersion = random.pick([3, 4, 4, 4, 5] as const);
  const packet: IConnectPacket = {
    cmd: 'connect',
    protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion,
    clientId: protocolVersion === 3 ? `c${text(random, 22)}` : text(random, 30), // 3.1: 1–23 characters
    clean: true,
    keepalive: random.int(0, 65_535),
  };
  if (random.chance(0.4)) {
    const payload = Buffer.from(text(random, 40));
    packet.will = { topic: `w${text(random, 20)}`, payload, qos: random.pick([0, 1, 2] as const), retain: random.chance(0.5) };
  }
  packet.clean = packet.clientId === '' || random.chance(0.5); // mqtt.generate's rule
  if (random.chance(0.6)) packet.username = text(random, 20);
  if (packet.username !== undefined && random.chance(0.6)) packet.password = Buffer.from(text(random, 20)); // mqtt.generate's rule
  return mqtt.generate(packet);
}

function corrupted(random: SeededRandom, bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  switch (random.int(0, 3)) {
    case 0: // one byte anywhere after the fixed header's first
      copy[random.int(1, copy.length - 1)] = random.int(0, 255);
      return copy;
    case 1: // the connect flags
      copy[(copy[1] ?? 0) > 127 ? 10 : 9] = random.int(0, 255);
      return copy;
    case 2: // a byte too many, with the remaining length to match when it is one byte
      if ((copy[1] ?? 0) < 127) copy[1] = (copy[1] ?? 0) + 1;
      return Buffer.concat([copy, Buffer.from([random.int(0, 255)])]);
    default: // cut short, length kept
      return copy.subarray(0, random.int(2, copy.length - 1));
  }
}

describe('the CONNECT fast path against mqtt-packet', () => {
  it(`${COUNT} generated CONNECTs (levels 3, 4 and 5, valid and corrupted) decode alike`, () => {
    const random = new SeededRandom(0xc0ec7);
    const decoder = new PacketDecoder();
    const taken = { fast: 0, fastWithWill: 0, left: 0 };
    for (let i = 0; i < COUNT; i++) {
      const valid = generated(random);
      const bytes = random.chance(0.4) ? corrupted(random, valid) : valid;
      const fast = decodeConnect(bytes);
      const expected = byMqttPacket(bytes);
      const label = `#${i} ${bytes.toString('hex')}`;
      if (fast === undefined) {
        taken.left += 1;
        continue;
      }
      taken.fast += 1;
      if (fast.will !== undefined) taken.fastWithWill += 1;
      expect({ label, packet: fields(fast) }).toEqual({ label, packet: fields(expected) });
      expect({ label, packet: fields(decoder.decode(bytes, { protocolVersion: 4 })) }).toEqual({ label, packet: fields(expected) });
    }
    expect(taken.fast).toBeGreaterThan(COUNT / 3);
    expect(taken.fastWithWill).toBeGreaterThan(COUNT / 10);
    expect(taken.left).toBeGreaterThan(COUNT / 5);
  });

  it('copies the will payload and the password out of the read buffer', () => {
    const bytes = mqtt.generate({ cmd: 'connect', clientId: 'd', will: { topic: 't', payload: Buffer.from('gone'), qos: 1, retain: false }, username: 'u', password: Buffer.from('pw') });
    const packet = decodeConnect(bytes);
    bytes.fill(0); // the read buffer is reused or freed: what the packet keeps must not change
    expect(packet).toMatchObject({ clientId: 'd', username: 'u', will: { topic: 't', qos: 1, payload: Buffer.from('gone') }, password: Buffer.from('pw') });
  });

  it('leaves MQTT 5, a bridge, the reserved flag and will QoS 3 to mqtt-packet', () => {
    const v4 = mqtt.generate({ cmd: 'connect', clientId: 'd', protocolVersion: 4 });
    expect(decodeConnect(v4)).toMatchObject({ cmd: 'connect', clientId: 'd', protocolVersion: 4, clean: true });
    expect(decodeConnect(mqtt.generate({ cmd: 'connect', clientId: 'd', protocolVersion: 5 }))).toBeUndefined();
    const flagsAt = 9; // 0x10, length, 0x00 0x04 'MQTT', level, flags
    const bridge = Buffer.from(v4);
    bridge[flagsAt - 1] = 0x84;
    expect(decodeConnect(bridge)).toBeUndefined();
    const reserved = Buffer.from(v4);
    reserved[flagsAt] = (reserved[flagsAt] ?? 0) | 0x01;
    expect(decodeConnect(reserved)).toBeUndefined();
    const qos3 = mqtt.generate({ cmd: 'connect', clientId: 'd', will: { topic: 't', payload: Buffer.alloc(0), qos: 2, retain: false } });
    qos3[flagsAt] = (qos3[flagsAt] ?? 0) | 0x18;
    expect(decodeConnect(qos3)).toBeUndefined();
  });
});

import { describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt-packet';
import { ProtocolError } from '../errors.js';
import { INITIAL_DECODER_SETTINGS, PacketDecoder, settingsAfterConnect } from './packet-decoder.js';
import { ReasonCode } from './reason-codes.js';

const v5 = { protocolVersion: 5 };
const connect5 = mqtt.generate({ cmd: 'connect', clientId: 'a', protocolVersion: 5, clean: true, keepalive: 30 }, v5);
const publish5 = mqtt.generate({ cmd: 'publish', topic: 't/5', payload: Buffer.from('five'), qos: 1, messageId: 7, dup: false, retain: false, properties: { contentType: 'text/plain' } }, v5);
const publish4 = mqtt.generate({ cmd: 'publish', topic: 't/4', payload: Buffer.from('four'), qos: 1, messageId: 9, dup: false, retain: false });

describe('PacketDecoder shared by connections', () => {
  it('decodes interleaved packets of a v5 and a v3.1.1 connection, each at its own level', () => {
    const decoder = new PacketDecoder();
    const connect = decoder.decode(connect5, INITIAL_DECODER_SETTINGS);
    const settings5 = settingsAfterConnect(connect, INITIAL_DECODER_SETTINGS);
    expect(settings5).toEqual({ protocolVersion: 5 });

    const first = decoder.decode(publish5, settings5);
    const second = decoder.decode(publish4, INITIAL_DECODER_SETTINGS);
    const third = decoder.decode(publish5, settings5);
    expect(first).toMatchObject({ cmd: 'publish', topic: 't/5', messageId: 7, properties: { contentType: 'text/plain' } });
    expect(second).toMatchObject({ cmd: 'publish', topic: 't/4', messageId: 9 });
    expect(second.cmd === 'publish' ? second.properties : 'not a publish').toBeUndefined();
    expect(third).toEqual(first);
  });

  it('refuses a malformed packet with MalformedPacket and decodes the next one with a fresh parser', () => {
    const decoder = new PacketDecoder();
    const badFlags = Buffer.from([0x82, 0x00]); // SUBSCRIBE must have flags 0b0010, and a body
    expect(() => decoder.decode(Buffer.from([0x6f, 0x02, 0x00, 0x01]), INITIAL_DECODER_SETTINGS)).toThrow(ProtocolError);
    try {
      decoder.decode(badFlags, INITIAL_DECODER_SETTINGS);
      throw new Error('decoded a malformed SUBSCRIBE');
    } catch (err: unknown) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).reasonCode).toBe(ReasonCode.MalformedPacket);
    }
    expect(decoder.decode(publish4, INITIAL_DECODER_SETTINGS)).toMatchObject({ topic: 't/4' });
  });

  it('refuses bytes that are not exactly one packet: a part of one, or two', () => {
    const decoder = new PacketDecoder();
    expect(() => decoder.decode(publish4.subarray(0, publish4.length - 1), INITIAL_DECODER_SETTINGS)).toThrow(/not exactly one packet/);
    expect(() => decoder.decode(Buffer.concat([publish4, publish4]), INITIAL_DECODER_SETTINGS)).toThrow(/not exactly one packet/);
    expect(decoder.decode(publish4, INITIAL_DECODER_SETTINGS)).toMatchObject({ messageId: 9 });
  });

  it('keeps only the level and bridge bit of a CONNECT, not the packet', () => {
    const bridge = mqtt.parser();
    const packets: mqtt.Packet[] = [];
    bridge.on('packet', (p: mqtt.Packet) => packets.push(p));
    const bytes = mqtt.generate({ cmd: 'connect', clientId: 'b', protocolVersion: 4, clean: true, keepalive: 0, password: Buffer.from('secret'), username: 'u' });
    bytes[8] = 0x84; // protocol level 4 with the bridge bit (offset: header 2 + name length 2 + "MQTT" 4)
    bridge.parse(bytes);
    const connect = packets[0];
    expect(connect).toBeDefined();
    expect(settingsAfterConnect(connect as mqtt.Packet, INITIAL_DECODER_SETTINGS)).toEqual({ protocolVersion: 4, bridgeMode: true });
  });
});

describe('DISCONNECT and CONNACK without mqtt-packet', () => {
  /** What mqtt-packet's own parser makes of `bytes` at `protocolVersion`. */
  function parsedByMqttPacket(bytes: Buffer, protocolVersion: number): mqtt.Packet[] {
    const parser = mqtt.parser({ protocolVersion });
    const packets: mqtt.Packet[] = [];
    parser.on('packet', (packet: mqtt.Packet) => packets.push(packet));
    parser.parse(bytes);
    return packets;
  }

  it.each([3, 4, 5])('decodes a plain DISCONNECT at level %i as mqtt-packet does', (protocolVersion) => {
    const bytes = Buffer.from([0xe0, 0x00]); // what clients send (v5: reason 0x00 and no properties may be left out)
    const expected = parsedByMqttPacket(bytes, protocolVersion);
    expect(expected).toHaveLength(1);
    expect({ ...new PacketDecoder().decode(bytes, { protocolVersion }) }).toStrictEqual({ ...expected[0] });
  });

  it('leaves a DISCONNECT with a reason code or bad flags to mqtt-packet', () => {
    const decoder = new PacketDecoder();
    expect(decoder.decode(Buffer.from([0xe0, 0x01, 0x04]), v5)).toMatchObject({ cmd: 'disconnect', reasonCode: 4 });
    expect(() => decoder.decode(Buffer.from([0xe1, 0x00]), INITIAL_DECODER_SETTINGS)).toThrow(ProtocolError);
  });
});

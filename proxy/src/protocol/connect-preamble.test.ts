import { describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt-packet';
import { frame, rawConnect, str, u16 } from '../test-support/raw-packets.js';
import { CONNECT_PREAMBLE_BYTES, connectProtocolLevel } from './connect-preamble.js';

describe('connectProtocolLevel', () => {
  it.each([3, 4, 5] as const)('reads level %i from a CONNECT, asking for more bytes until it arrives', (protocolVersion) => {
    const protocolId = protocolVersion === 3 ? 'MQIsdp' : 'MQTT';
    const bytes = mqtt.generate({ cmd: 'connect', protocolId, protocolVersion, clientId: 'c', clean: true, keepalive: 0 });
    const levelAt = 2 + 2 + protocolId.length; // type byte, one length byte, name length, name
    for (let n = 0; n <= levelAt; n++) expect(connectProtocolLevel(bytes.subarray(0, n))).toBe('more');
    expect(connectProtocolLevel(bytes.subarray(0, levelAt + 1))).toBe(protocolVersion);
  });

  it('reads an unknown level, and a bridge level with bit 7 set, as they are', () => {
    expect(connectProtocolLevel(rawConnect({ level: 6 }))).toBe(6);
    expect(connectProtocolLevel(rawConnect({ level: 0x84 }))).toBe(0x84);
  });

  it('reads the level behind a Remaining Length of several bytes', () => {
    const big = rawConnect({ clientId: 'x'.repeat(300) });
    expect((big[1] ?? 0) & 0x80).toBe(0x80); // a second Remaining Length byte follows
    expect(connectProtocolLevel(big)).toBe(4);
  });

  it.each([
    ['a PUBLISH first', frame(0x30, [...str('a'), 0x78])],
    ['a CONNECT with reserved fixed-header flags', frame(0x11, [...str('MQTT'), 4])],
    ['a protocol name other than MQTT or MQIsdp', frame(0x10, [...str('MQTX'), 4, 0x02, ...u16(0)])],
    ['a protocol name of an unexpected length', frame(0x10, [...str('MQ'), 4])],
    ['a Remaining Length of five bytes', Uint8Array.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])],
  ])('gives up on %s (the parser reports it)', (_name, bytes) => {
    expect(connectProtocolLevel(bytes)).toBeUndefined();
  });

  it('never needs more than CONNECT_PREAMBLE_BYTES', () => {
    const longest = frame(0x10, [...str('MQIsdp'), 3, 0x02, ...u16(0), ...str('x'.repeat(20_000))]);
    expect(connectProtocolLevel(longest.subarray(0, CONNECT_PREAMBLE_BYTES))).toBe(3);
  });
});

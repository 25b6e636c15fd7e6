import { describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt-packet';
import { FrameGuard } from './frame-guard.js';
import { ReasonCode } from './reason-codes.js';
import { reasonOf } from '../test-support/protocol-errors.js';


describe('FrameGuard', () => {
  const publish = (size: number): Buffer =>
    mqtt.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(size), qos: 0, dup: false, retain: false });

  it('accepts packets up to the limit, split across chunks at any byte', () => {
    const stream = Buffer.concat([publish(10), publish(200), publish(5)]);
    for (let split = 0; split < stream.length; split++) {
      const guard = new FrameGuard(300);
      expect(reasonOf(() => {
        guard.inspect(stream.subarray(0, split));
        guard.inspect(stream.subarray(split));
      })).toBeUndefined();
    }
  });

  it('rejects a packet whose declared length exceeds the limit before its body arrives', () => {
    const guard = new FrameGuard(100);
    // PUBLISH header declaring 268,435,455 bytes: 0x30 0xff 0xff 0xff 0x7f, and no body at all.
    expect(reasonOf(() => guard.inspect(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0x7f])))).toBe(ReasonCode.PacketTooLarge);
  });

  it('counts the fixed header in the packet size', () => {
    const packet = publish(10);
    expect(reasonOf(() => new FrameGuard(packet.length).inspect(packet))).toBeUndefined();
    expect(reasonOf(() => new FrameGuard(packet.length - 1).inspect(packet))).toBe(ReasonCode.PacketTooLarge);
  });

  it('rejects a remaining length of more than four bytes as malformed', () => {
    const guard = new FrameGuard(1 << 30);
    expect(reasonOf(() => guard.inspect(Uint8Array.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])))).toBe(ReasonCode.MalformedPacket);
  });
});

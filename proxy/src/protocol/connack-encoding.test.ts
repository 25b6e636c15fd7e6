import { Duplex } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt-packet';
import { Connection, type ProtocolVersion } from './connection.js';

/** A Connection over a stream that keeps what is written to it. */
function capturing(protocolVersion: ProtocolVersion): { conn: Connection; written: Buffer[] } {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk);
      done();
    },
  });
  const conn = new Connection(stream, { maxPacketSizeBytes: 1024, hooks: { bytesIn() {}, bytesOut() {} }, remoteAddress: 'test' });
  conn.protocolVersion = protocolVersion;
  return { conn, written };
}

describe('CONNACK encoding', () => {
  it.each([
    [3, false, 0],
    [4, false, 0],
    [4, true, 0],
    [4, false, 5],
    [3, false, 2],
  ] as const)('v%i sessionPresent=%s returnCode=%i: the bytes mqtt-packet writes', async (version, sessionPresent, returnCode) => {
    const { conn, written } = capturing(version);
    const packet = { cmd: 'connack' as const, sessionPresent, returnCode };
    expect(conn.send(packet)).toBe('sent');
    await new Promise((resolve) => process.nextTick(resolve)); // the write is corked until the next tick
    expect(Buffer.concat(written)).toEqual(mqtt.generate(packet, { protocolVersion: version }));
  });

  it('v5 (properties, reason code) still goes through mqtt-packet', async () => {
    const { conn, written } = capturing(5);
    const packet = { cmd: 'connack' as const, sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 10 } };
    conn.send(packet);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(Buffer.concat(written)).toEqual(mqtt.generate(packet, { protocolVersion: 5 }));
  });
});

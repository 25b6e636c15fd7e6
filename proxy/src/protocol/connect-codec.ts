import type { IConnectPacket } from 'mqtt-packet';
import { readString, readVarInt, type Cursor } from './publish-properties.js';

/**
 * The decoding fast path of CONNECT at levels 3 (MQTT 3.1) and 4 (3.1.1): read straight from the packet's bytes
 * into the object mqtt-packet's parser builds (same fields; the will payload and the password copied, as
 * mqtt-packet copies them, so that a long-lived will does not hold the socket's read buffer). mqtt-packet's parser
 * was most of the CPU of decoding a CONNECT, and its debug() calls alone 4–5 % of the allocations of a CONNECT
 * cycle (docs/performance.md, "CONNECT path"). Whatever it does not take — MQTT 5 (properties), a bridge's level,
 * a reserved or inconsistent flag, a field that overruns the packet, bytes after the last field, will QoS 3 — it
 * leaves to mqtt-packet (`undefined`), which accepts or refuses it exactly as before. The differential test
 * (connect-codec.test.ts) checks both paths on generated and corrupted packets.
 */
export function decodeConnect(bytes: Buffer): IConnectPacket | undefined {
  const head = readVariableHeader(bytes);
  if (head === undefined) return undefined;
  const { cursor, flags } = head;
  const end = bytes.length;
  const clientId = readString(bytes, cursor, end);
  if (clientId === undefined) return undefined;
  const will = (flags & 0x04) === 0 ? undefined : readWill(bytes, cursor, flags);
  if ((flags & 0x04) !== 0 && will === undefined) return undefined;
  const credentials = readCredentials(bytes, cursor, flags);
  if (credentials === undefined || cursor.offset !== end) return undefined;
  const packet = {
    cmd: 'connect' as const,
    retain: false,
    qos: 0 as const,
    dup: false,
    length: head.length,
    topic: null,
    payload: null,
    protocolId: head.protocolId,
    protocolVersion: head.protocolVersion,
    ...(will === undefined ? {} : { will }),
    clean: (flags & 0x02) !== 0,
    keepalive: head.keepalive,
    clientId,
    ...credentials,
  };
  return packet;
}

interface VariableHeader {
  readonly cursor: Cursor;
  readonly length: number;
  readonly protocolId: 'MQTT' | 'MQIsdp';
  readonly protocolVersion: 3 | 4;
  readonly flags: number;
  readonly keepalive: number;
}

/** The fixed header and the variable header of a level 3 or 4 CONNECT whose flags are consistent. */
function readVariableHeader(bytes: Buffer): VariableHeader | undefined {
  if (bytes[0] !== 0x10) return undefined;
  const cursor: Cursor = { offset: 1 };
  const length = readVarInt(bytes, cursor, bytes.length);
  if (length === undefined || cursor.offset + length !== bytes.length) return undefined;
  const protocolId = readString(bytes, cursor, bytes.length);
  if ((protocolId !== 'MQTT' && protocolId !== 'MQIsdp') || cursor.offset + 4 > bytes.length) return undefined;
  const protocolVersion = bytes[cursor.offset];
  const flags = bytes[cursor.offset + 1] ?? 0;
  const keepalive = bytes.readUInt16BE(cursor.offset + 2);
  cursor.offset += 4;
  if ((protocolVersion !== 3 && protocolVersion !== 4) || (flags & 0x01) !== 0) return undefined;
  // no will: its QoS and retain must be 0 (mqtt-packet's error otherwise); will QoS 3: mqtt-packet passes it on
  const willQos = (flags >> 3) & 0x03;
  if ((flags & 0x04) === 0 ? willQos !== 0 || (flags & 0x20) !== 0 : willQos === 3) return undefined;
  return { cursor, length, protocolId, protocolVersion, flags, keepalive };
}

function readWill(bytes: Buffer, cursor: Cursor, flags: number): IConnectPacket['will'] {
  const topic = readString(bytes, cursor, bytes.length);
  const payload = topic === undefined ? undefined : readCopy(bytes, cursor, bytes.length);
  if (topic === undefined || payload === undefined) return undefined;
  return { retain: (flags & 0x20) !== 0, qos: ((flags >> 3) & 0x03) as 0 | 1 | 2, topic, payload };
}

/** The user name and password the flags announce; undefined when one overruns the packet. */
function readCredentials(bytes: Buffer, cursor: Cursor, flags: number): { username?: string; password?: Buffer } | undefined {
  const username = (flags & 0x80) === 0 ? undefined : readString(bytes, cursor, bytes.length);
  if ((flags & 0x80) !== 0 && username === undefined) return undefined;
  const password = (flags & 0x40) === 0 ? undefined : readCopy(bytes, cursor, bytes.length);
  if ((flags & 0x40) !== 0 && password === undefined) return undefined;
  return { ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) };
}

/** Binary data (two length bytes, then the bytes), copied out of `bytes`. */
function readCopy(bytes: Buffer, cursor: Cursor, end: number): Buffer | undefined {
  const at = cursor.offset;
  if (at + 2 > end) return undefined;
  const stop = at + 2 + bytes.readUInt16BE(at);
  if (stop > end) return undefined;
  cursor.offset = stop;
  return Buffer.from(bytes.subarray(at + 2, stop));
}

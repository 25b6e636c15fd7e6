import type { IPubackPacket, IPubcompPacket, IPublishPacket, IPubrecPacket, IPubrelPacket } from 'mqtt-packet';
import { decodePublishProperties, readVarInt } from './publish-properties.js';
import type { PublishProperties } from './publish-properties.js';

/**
 * The decoding fast path of the data plane: PUBLISH and PUBACK/PUBREC/PUBREL/PUBCOMP in their common forms, read
 * straight from the packet's bytes into the same objects mqtt-packet's parser builds (same fields, same order, the
 * payload a view of the bytes; v5 PUBLISH properties in publish-properties.ts). Whatever it does not take — a field
 * that overruns the packet, a property given twice or foreign to PUBLISH, acknowledgements with properties, wrong
 * header flags, QoS 3, a v5 reason code mqtt-packet refuses, any other packet type — it leaves to
 * mqtt-packet (`undefined`), which then accepts or refuses it exactly as before: the errors stay mqtt-packet's.
 * The differential test (publish-codec.test.ts) checks both paths on thousands of generated packets.
 */

type DataPacket = IPublishPacket | IPubackPacket | IPubrecPacket | IPubrelPacket | IPubcompPacket;

const PUBLISH = 3;
const PUBACK = 4;
const PUBREL = 6;
const PUBCOMP = 7;
const ACK_COMMANDS = ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const;

/** MQTT 5 reason codes mqtt-packet accepts on PUBACK/PUBREC (§3.4.2.1) and on PUBREL/PUBCOMP (§3.6.2.1). */
const PUBACK_PUBREC_CODES = new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);
const PUBREL_PUBCOMP_CODES = new Set([0x00, 0x92]);

/**
 * Decodes `bytes`, exactly one whole packet (fixed header included), when it is a PUBLISH or an acknowledgement
 * of the common form; `undefined` hands it to mqtt-packet. `protocolVersion` is the connection's level (3, 4, 5).
 */
export function decodeDataPacket(bytes: Buffer, protocolVersion: number): DataPacket | undefined {
  const first = bytes[0] ?? 0;
  const type = first >> 4;
  if (type < PUBLISH || type > PUBCOMP) return undefined;
  // the Remaining Length: FrameGuard checked its form; a packet of up to 2 MB has at most 3 length bytes here
  const cursor = { offset: 1 };
  const length = readVarInt(bytes, cursor, bytes.length);
  if (length === undefined) return undefined;
  const offset = cursor.offset;
  if (offset + length !== bytes.length) return undefined;
  return type === PUBLISH ? decodePublish(bytes, first, offset, length, protocolVersion) : decodeAck(bytes, first, offset, length, protocolVersion);
}

function decodePublish(bytes: Buffer, first: number, start: number, length: number, protocolVersion: number): IPublishPacket | undefined {
  const qos = (first >> 1) & 3;
  if (qos === 3) return undefined;
  const end = start + length;
  if (end - start < 2) return undefined;
  const topicEnd = start + 2 + bytes.readUInt16BE(start);
  if (topicEnd > end) return undefined;
  let offset = topicEnd;
  let messageId = 0;
  if (qos > 0) {
    if (end - offset < 2) return undefined;
    messageId = bytes.readUInt16BE(offset);
    offset += 2;
  }
  let properties: PublishProperties | undefined;
  if (protocolVersion === 5) {
    const block = decodePublishProperties(bytes, offset, end);
    if (block === undefined) return undefined;
    properties = block.properties;
    offset = block.payloadStart;
  }
  // the fields in the order mqtt-packet's Packet declares them, so the objects share its shapes
  const retain = (first & 1) !== 0;
  const dup = (first & 8) !== 0;
  const topic = bytes.toString('utf8', start + 2, topicEnd);
  const payload = bytes.subarray(offset, end);
  if (properties !== undefined) {
    if (qos === 0) return { cmd: 'publish', retain, qos, dup, length, topic, payload, properties };
    return { cmd: 'publish', retain, qos: qos as 1 | 2, dup, length, topic, payload, messageId, properties };
  }
  if (qos === 0) return { cmd: 'publish', retain, qos, dup, length, topic, payload };
  return { cmd: 'publish', retain, qos: qos as 1 | 2, dup, length, topic, payload, messageId };
}

function decodeAck(
  bytes: Buffer,
  first: number,
  start: number,
  length: number,
  protocolVersion: number,
): IPubackPacket | IPubrecPacket | IPubrelPacket | IPubcompPacket | undefined {
  const type = first >> 4;
  // [MQTT-2.2.2-1] PUBREL's flags are 0010, the others' 0000; anything else is mqtt-packet's error to report
  if ((first & 0x0f) !== (type === PUBREL ? 2 : 0)) return undefined;
  if (length < 2) return undefined;
  const messageId = bytes.readUInt16BE(start);
  const cmd = ACK_COMMANDS[type - PUBACK] ?? 'puback';
  const qos = type === PUBREL ? 1 : 0;
  if (protocolVersion !== 5) {
    if (length !== 2) return undefined;
    const packet = { cmd, retain: false, qos, dup: false, length, topic: null, payload: null, messageId };
    return packet;
  }
  let reasonCode = 0;
  if (length === 3) {
    reasonCode = bytes[start + 2] ?? 0;
    const known = type === PUBACK || type === PUBACK + 1 ? PUBACK_PUBREC_CODES : PUBREL_PUBCOMP_CODES;
    if (!known.has(reasonCode)) return undefined;
  } else if (length !== 2) {
    return undefined; // properties (or a Property Length): mqtt-packet
  }
  const packet = { cmd, retain: false, qos, dup: false, length, topic: null, payload: null, messageId, reasonCode };
  return packet;
}

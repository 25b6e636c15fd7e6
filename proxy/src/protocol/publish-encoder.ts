import type { Packet } from 'mqtt-packet';
import type { ForwardedProperties, QoS, UserProperties } from '../backend/message.js';
import { PublishPropertyId } from './publish-properties.js';

/**
 * The encoding fast path of the data plane: outbound PUBLISH (v3/v5, with the properties PublishSender sets),
 * PUBACK/PUBREC/PUBREL/PUBCOMP and the v3 CONNACK written straight into one Buffer, byte for byte what mqtt-packet's
 * `generate` makes of the same packet (the differential tests, publish-codec.test.ts and connack-encoding.test.ts,
 * compare them) without its chunk list, cached number buffers, `debug` calls and final concat.
 */

/** One outbound PUBLISH; PublishSender fills one of these per delivery (reused: encoding is synchronous). */
export interface OutboundPublish {
  topic: string;
  /** A Buffer, or the Uint8Array the backend delivered: copied into the packet, or viewed as a Buffer by asBuffer. */
  payload: Uint8Array;
  qos: QoS;
  dup: boolean;
  retain: boolean;
  /** Present for QoS 1/2. */
  packetId: number | undefined;
  /** v5 only, written in this order after the forwarded ones, as PublishSender built mqtt-packet's properties. */
  forwarded: ForwardedProperties | undefined;
  messageExpiryInterval: number | undefined;
  topicAlias: number | undefined;
  subscriptionIds: readonly number[] | undefined;
}

/** A delivery with nothing set yet: QoS 0, an empty topic and payload, no properties. */
export function blankOutboundPublish(): OutboundPublish {
  return {
    topic: '',
    payload: Buffer.alloc(0),
    qos: 0,
    dup: false,
    retain: false,
    packetId: undefined,
    forwarded: undefined,
    messageExpiryInterval: undefined,
    topicAlias: undefined,
    subscriptionIds: undefined,
  };
}

/** The acknowledgements this file encodes, by the high nibble of their first byte (PUBREL's flags are 0010). */
const ACK_HEADERS = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;
export type AckCommand = keyof typeof ACK_HEADERS;

const Property = PublishPropertyId;

/** Bytes of a Variable Byte Integer (§1.5.5). */
function varIntLength(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

function writeVarInt(buffer: Buffer, offset: number, value: number): number {
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    buffer[offset++] = byte;
  } while (rest > 0);
  return offset;
}

function writeString(buffer: Buffer, offset: number, value: string): number {
  const written = buffer.write(value, offset + 2, 'utf8');
  buffer.writeUInt16BE(written, offset);
  return offset + 2 + written;
}

/** Each user property as mqtt-packet writes it: every name in order, a repeated one once per value. */
function forEachUserProperty(properties: UserProperties, visit: (name: string, value: string) => void): void {
  for (const name of Object.getOwnPropertyNames(properties)) {
    const value = properties[name];
    if (Array.isArray(value)) for (const one of value) visit(name, one);
    else if (value !== undefined) visit(name, value);
  }
}

function forwardedLength(forwarded: ForwardedProperties): number {
  let length = 0;
  if (forwarded.payloadFormatIndicator !== undefined) length += 2;
  if (forwarded.contentType !== undefined) length += 3 + Buffer.byteLength(forwarded.contentType);
  if (forwarded.responseTopic !== undefined) length += 3 + Buffer.byteLength(forwarded.responseTopic);
  if (forwarded.correlationData !== undefined) length += 3 + forwarded.correlationData.byteLength;
  if (forwarded.userProperties !== undefined) {
    forEachUserProperty(forwarded.userProperties, (name, value) => {
      length += 5 + Buffer.byteLength(name) + Buffer.byteLength(value);
    });
  }
  return length;
}

function propertiesLength(publish: OutboundPublish): number {
  let length = publish.forwarded === undefined ? 0 : forwardedLength(publish.forwarded);
  if (publish.messageExpiryInterval !== undefined) length += 5;
  if (publish.topicAlias !== undefined) length += 3;
  for (const id of publish.subscriptionIds ?? []) length += 1 + varIntLength(id);
  return length;
}

function writeForwarded(buffer: Buffer, start: number, forwarded: ForwardedProperties): number {
  let offset = start;
  if (forwarded.payloadFormatIndicator !== undefined) {
    buffer[offset++] = Property.PayloadFormatIndicator;
    buffer[offset++] = forwarded.payloadFormatIndicator ? 1 : 0;
  }
  if (forwarded.contentType !== undefined) {
    buffer[offset++] = Property.ContentType;
    offset = writeString(buffer, offset, forwarded.contentType);
  }
  if (forwarded.responseTopic !== undefined) {
    buffer[offset++] = Property.ResponseTopic;
    offset = writeString(buffer, offset, forwarded.responseTopic);
  }
  const correlation = forwarded.correlationData;
  if (correlation !== undefined) {
    buffer[offset++] = Property.CorrelationData;
    buffer.writeUInt16BE(correlation.byteLength, offset);
    buffer.set(correlation, offset + 2);
    offset += 2 + correlation.byteLength;
  }
  if (forwarded.userProperties !== undefined) {
    forEachUserProperty(forwarded.userProperties, (name, value) => {
      buffer[offset++] = Property.UserProperty;
      offset = writeString(buffer, offset, name);
      offset = writeString(buffer, offset, value);
    });
  }
  return offset;
}

function writeProperties(buffer: Buffer, start: number, publish: OutboundPublish): number {
  let offset = publish.forwarded === undefined ? start : writeForwarded(buffer, start, publish.forwarded);
  if (publish.messageExpiryInterval !== undefined) {
    buffer[offset++] = Property.MessageExpiryInterval;
    offset = buffer.writeUInt32BE(publish.messageExpiryInterval, offset);
  }
  if (publish.topicAlias !== undefined) {
    buffer[offset++] = Property.TopicAlias;
    offset = buffer.writeUInt16BE(publish.topicAlias, offset);
  }
  for (const id of publish.subscriptionIds ?? []) {
    buffer[offset++] = Property.SubscriptionIdentifier;
    offset = writeVarInt(buffer, offset, id);
  }
  return offset;
}

/**
 * Encodes a PUBLISH at `protocolVersion`. With `withPayload` false the Buffer ends where the payload would start
 * (for a caller that writes a large payload as a second buffer instead of copying it).
 */
export function encodePublish(publish: OutboundPublish, protocolVersion: number, withPayload = true): Buffer {
  const { topic, payload, qos } = publish;
  const topicLength = Buffer.byteLength(topic);
  const properties = protocolVersion === 5 ? propertiesLength(publish) : 0;
  const propertyBlock = protocolVersion === 5 ? varIntLength(properties) + properties : 0;
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + propertyBlock + payload.length;
  const headerLength = 1 + varIntLength(remaining);
  const size = headerLength + remaining - (withPayload ? 0 : payload.length);
  const buffer = Buffer.allocUnsafe(size);
  buffer[0] = 0x30 | (qos << 1) | (publish.dup ? 8 : 0) | (publish.retain ? 1 : 0);
  let offset = writeVarInt(buffer, 1, remaining);
  buffer.writeUInt16BE(topicLength, offset);
  offset += 2;
  offset += buffer.write(topic, offset, 'utf8');
  if (qos > 0) {
    if (publish.packetId === undefined) throw new Error('Invalid messageId'); // as mqtt-packet refuses it
    offset = buffer.writeUInt16BE(publish.packetId, offset);
  }
  if (protocolVersion === 5) {
    offset = writeVarInt(buffer, offset, properties);
    offset = writeProperties(buffer, offset, publish);
  }
  if (withPayload) buffer.set(payload, offset);
  return buffer;
}

/**
 * Encodes an acknowledgement without properties. As mqtt-packet does, v5 omits the reason code only when it is 0;
 * an absent one is written as 0x00 followed by an empty property length.
 */
export function encodeAck(cmd: AckCommand, packetId: number, reasonCode: number | undefined, protocolVersion: number): Buffer {
  const short = protocolVersion !== 5 || reasonCode === 0;
  const buffer = Buffer.allocUnsafe(short ? 4 : 6);
  buffer[0] = ACK_HEADERS[cmd];
  buffer[1] = short ? 2 : 4;
  buffer.writeUInt16BE(packetId, 2);
  if (!short) {
    buffer[4] = (reasonCode ?? 0) & 0xff;
    buffer[5] = 0;
  }
  return buffer;
}

/** A v3.1.1 or v3.1 CONNACK: four bytes (v5 has properties and goes through mqtt-packet). */
export function encodeConnackV3(sessionPresent: boolean, returnCode: number): Buffer {
  return Buffer.from([0x20, 0x02, sessionPresent ? 1 : 0, returnCode]);
}

/**
 * The packets Connection.send writes without mqtt-packet: the acknowledgements without properties and a v3
 * CONNACK; undefined for everything else.
 */
export function encodeFastPath(packet: Packet, protocolVersion: number): Buffer | undefined {
  switch (packet.cmd) {
    case 'puback':
    case 'pubrec':
    case 'pubcomp':
    case 'pubrel':
      if (packet.properties !== undefined || packet.messageId === undefined || 'dup' in packet) return undefined;
      return encodeAck(packet.cmd, packet.messageId, packet.reasonCode, protocolVersion);
    case 'connack':
      if (protocolVersion === 5 || packet.returnCode === undefined) return undefined;
      return encodeConnackV3(packet.sessionPresent, packet.returnCode);
    default:
      return undefined;
  }
}

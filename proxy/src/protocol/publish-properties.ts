import type { IPublishPacket, UserProperties } from 'mqtt-packet';

/** The properties object of a PUBLISH as mqtt-packet's parser builds it. */
export type PublishProperties = NonNullable<IPublishPacket['properties']>;

/** MQTT 5 property identifiers a PUBLISH may carry (§3.3.2.3); any other goes to mqtt-packet. */
export const PublishPropertyId = {
  PayloadFormatIndicator: 0x01,
  MessageExpiryInterval: 0x02,
  ContentType: 0x03,
  ResponseTopic: 0x08,
  CorrelationData: 0x09,
  SubscriptionIdentifier: 0x0b,
  TopicAlias: 0x23,
  UserProperty: 0x26,
} as const;
const Id = PublishPropertyId;

/** Where the next field starts. */
export interface Cursor {
  offset: number;
}

export function readString(bytes: Buffer, cursor: Cursor, end: number): string | undefined {
  const at = cursor.offset;
  if (at + 2 > end) return undefined;
  const stop = at + 2 + bytes.readUInt16BE(at);
  if (stop > end) return undefined;
  cursor.offset = stop;
  return bytes.toString('utf8', at + 2, stop);
}

/** A Variable Byte Integer (at most 4 bytes, before `end`) at the cursor, which moves past it. */
export function readVarInt(bytes: Buffer, cursor: Cursor, end: number): number | undefined {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4 && cursor.offset < end; i++) {
    const byte = bytes[cursor.offset++] ?? 0;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return value;
    multiplier *= 128;
  }
  return undefined;
}

/** A user property, merged as mqtt-packet merges them: a repeated name becomes a list (unless the first was ''). */
function readUserProperty(bytes: Buffer, cursor: Cursor, end: number, result: PublishProperties): boolean {
  const name = readString(bytes, cursor, end);
  const value = name === undefined ? undefined : readString(bytes, cursor, end);
  if (name === undefined || value === undefined) return false;
  const users = (result.userProperties ??= Object.create(null) as UserProperties);
  const existing = users[name];
  if (existing === undefined || existing === '') users[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else users[name] = [existing, value];
  return true;
}

/** Reads one property into `result`; false when mqtt-packet should decide (unknown here, repeated, truncated). */
function readProperty(bytes: Buffer, cursor: Cursor, end: number, result: PublishProperties): boolean {
  const id = bytes[cursor.offset] ?? 0;
  cursor.offset += 1;
  return id < Id.ContentType ? readFixed(id, bytes, cursor, end, result) : readVariable(id, bytes, cursor, end, result);
}

/** The numbers, and the properties a PUBLISH does not carry. */
function readFixed(id: number, bytes: Buffer, cursor: Cursor, end: number, result: PublishProperties): boolean {
  const at = cursor.offset;
  switch (id) {
    case Id.PayloadFormatIndicator:
      if (result.payloadFormatIndicator !== undefined || at + 1 > end) return false;
      result.payloadFormatIndicator = bytes[at] !== 0;
      cursor.offset = at + 1;
      return true;
    case Id.MessageExpiryInterval:
      if (result.messageExpiryInterval !== undefined || at + 4 > end) return false;
      result.messageExpiryInterval = bytes.readUInt32BE(at);
      cursor.offset = at + 4;
      return true;
    default:
      return false;
  }
}

/** The strings, the binary data, the Variable Byte Integer and the topic alias. */
function readVariable(id: number, bytes: Buffer, cursor: Cursor, end: number, result: PublishProperties): boolean {
  const at = cursor.offset;
  switch (id) {
    case Id.TopicAlias:
      if (result.topicAlias !== undefined || at + 2 > end) return false;
      result.topicAlias = bytes.readUInt16BE(at);
      cursor.offset = at + 2;
      return true;
    case Id.ContentType: {
      const text = result.contentType === undefined ? readString(bytes, cursor, end) : undefined;
      if (text !== undefined) result.contentType = text;
      return text !== undefined;
    }
    case Id.ResponseTopic: {
      const text = result.responseTopic === undefined ? readString(bytes, cursor, end) : undefined;
      if (text !== undefined) result.responseTopic = text;
      return text !== undefined;
    }
    case Id.CorrelationData: {
      if (result.correlationData !== undefined || at + 2 > end) return false;
      const stop = at + 2 + bytes.readUInt16BE(at);
      if (stop > end) return false;
      result.correlationData = bytes.subarray(at + 2, stop);
      cursor.offset = stop;
      return true;
    }
    case Id.SubscriptionIdentifier: {
      const id = result.subscriptionIdentifier === undefined ? readVarInt(bytes, cursor, end) : undefined;
      if (id !== undefined) result.subscriptionIdentifier = id;
      return id !== undefined;
    }
    case Id.UserProperty:
      return readUserProperty(bytes, cursor, end, result);
    default:
      return false;
  }
}

/** What decodePublishProperties found: the properties (undefined: none) and where the payload starts. */
export interface PropertyBlock {
  properties: PublishProperties | undefined;
  payloadStart: number;
}

/** The reading position and the answer: one each for the process (decoding is synchronous), none per packet. */
const cursor: Cursor = { offset: 0 };
const block: PropertyBlock = { properties: undefined, payloadStart: 0 };

/**
 * Reads the Property Length and the properties of a v5 PUBLISH starting at `start`, within the packet's `end`, into
 * the object mqtt-packet would make: the properties in their order of appearance, user properties in an object
 * without prototype. The answer is valid until the next call. `undefined` leaves the packet to mqtt-packet: no
 * Property Length, a property a PUBLISH does not carry, one given twice (mqtt-packet makes a list of it, which
 * checkDecodedPacket refuses), one that overruns the block.
 */
export function decodePublishProperties(bytes: Buffer, start: number, end: number): PropertyBlock | undefined {
  cursor.offset = start;
  const length = readVarInt(bytes, cursor, end);
  if (length === undefined || cursor.offset + length > end) return undefined;
  const stop = cursor.offset + length;
  block.properties = undefined;
  block.payloadStart = stop;
  if (length === 0) return block;
  const result: PublishProperties = {};
  while (cursor.offset < stop) {
    if (!readProperty(bytes, cursor, stop, result)) return undefined;
  }
  block.properties = result;
  return block;
}

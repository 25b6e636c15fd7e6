// Carries an MQTT application message over NATS: the payload is the NATS payload untouched, the MQTT
// metadata travels in `Shoal-…` headers (nats-names.ts). Free-form strings are percent-encoded because
// NATS header values cannot hold CR/LF and lose surrounding whitespace. A message without headers (a
// plain NATS publisher, or a bare QoS 0 publish) decodes as QoS 0, not retained, no properties.
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { DeliveredMessage, ForwardedProperties, Message, QoS, UserProperties } from '../message.js';
import { NatsHeader, ShoalHeader } from './nats-names.js';

/** A message as NATS carries it. `headers` is undefined when there is nothing to say. */
export interface EncodedMessage {
  readonly headers: MsgHdrs | undefined;
  readonly payload: Uint8Array;
}

const encodeText = (text: string): string => encodeURIComponent(text);

function decodeText(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined; // a foreign publisher's malformed value is dropped, not fatal
  }
}

function encodeUserProperties(target: MsgHdrs, properties: UserProperties): void {
  for (const [key, value] of Object.entries(properties)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      target.append(ShoalHeader.UserProperty, `${encodeText(key)}=${encodeText(one)}`);
    }
  }
}

function decodeUserProperties(values: readonly string[]): UserProperties | undefined {
  const result: Record<string, string | string[]> = {};
  let any = false;
  for (const pair of values) {
    const separator = pair.indexOf('=');
    if (separator < 0) continue;
    const key = decodeText(pair.slice(0, separator));
    const value = decodeText(pair.slice(separator + 1));
    if (key === undefined || value === undefined) continue;
    const previous = result[key];
    result[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    any = true;
  }
  return any ? result : undefined;
}

/** NATS headers and payload for a message; no headers at all for a bare QoS 0, non-retained message. */
export function encodeMessage(message: Message): EncodedMessage {
  const h = natsHeaders();
  if (message.qos !== 0) h.set(ShoalHeader.QoS, String(message.qos));
  if (message.retain) h.set(ShoalHeader.Retain, '1');
  if (message.expiresAtMs !== undefined) h.set(ShoalHeader.ExpiresAt, String(Math.trunc(message.expiresAtMs)));
  if (message.originClientId !== undefined) h.set(ShoalHeader.Origin, encodeText(message.originClientId));
  const p = message.properties;
  if (p !== undefined) {
    if (p.payloadFormatIndicator !== undefined) h.set(ShoalHeader.PayloadFormat, p.payloadFormatIndicator ? '1' : '0');
    if (p.contentType !== undefined) h.set(ShoalHeader.ContentType, encodeText(p.contentType));
    if (p.responseTopic !== undefined) h.set(ShoalHeader.ResponseTopic, encodeText(p.responseTopic));
    if (p.correlationData !== undefined) {
      h.set(ShoalHeader.CorrelationData, Buffer.from(p.correlationData).toString('base64'));
    }
    if (p.userProperties !== undefined) encodeUserProperties(h, p.userProperties);
  }
  return { headers: h.keys().length > 0 ? h : undefined, payload: message.payload };
}

function decodeQoS(value: string): QoS {
  return value === '1' ? 1 : value === '2' ? 2 : 0;
}

function decodeProperties(h: MsgHdrs): ForwardedProperties | undefined {
  const properties: {
    payloadFormatIndicator?: boolean;
    contentType?: string;
    responseTopic?: string;
    correlationData?: Uint8Array;
    userProperties?: UserProperties;
  } = {};
  let any = false;
  if (h.has(ShoalHeader.PayloadFormat)) {
    properties.payloadFormatIndicator = h.get(ShoalHeader.PayloadFormat) === '1';
    any = true;
  }
  const contentType = h.has(ShoalHeader.ContentType) ? decodeText(h.get(ShoalHeader.ContentType)) : undefined;
  if (contentType !== undefined) {
    properties.contentType = contentType;
    any = true;
  }
  const responseTopic = h.has(ShoalHeader.ResponseTopic) ? decodeText(h.get(ShoalHeader.ResponseTopic)) : undefined;
  if (responseTopic !== undefined) {
    properties.responseTopic = responseTopic;
    any = true;
  }
  if (h.has(ShoalHeader.CorrelationData)) {
    properties.correlationData = new Uint8Array(Buffer.from(h.get(ShoalHeader.CorrelationData), 'base64'));
    any = true;
  }
  const userProperties = decodeUserProperties(h.values(ShoalHeader.UserProperty));
  if (userProperties !== undefined) {
    properties.userProperties = userProperties;
    any = true;
  }
  return any ? properties : undefined;
}

/** The MQTT message a NATS message carries; `topic` comes from its subject (subjectToTopic). */
export function decodeMessage(topic: string, payload: Uint8Array, h: MsgHdrs | undefined): Message {
  if (h === undefined) return { topic, payload, qos: 0, retain: false };
  const message: {
    -readonly [K in keyof Message]: Message[K];
  } = {
    topic,
    payload,
    qos: decodeQoS(h.get(ShoalHeader.QoS)),
    retain: h.get(ShoalHeader.Retain) === '1',
  };
  const expiresAt = Number.parseInt(h.get(ShoalHeader.ExpiresAt), 10);
  if (Number.isSafeInteger(expiresAt)) message.expiresAtMs = expiresAt;
  const origin = h.has(ShoalHeader.Origin) ? decodeText(h.get(ShoalHeader.Origin)) : undefined;
  if (origin !== undefined) message.originClientId = origin;
  const properties = decodeProperties(h);
  if (properties !== undefined) message.properties = properties;
  return message;
}

/**
 * A message received on a live subject of shard `shardId`; a message SHOAL_MSGS re-published carries its
 * stream sequence in `Nats-Sequence`.
 */
export function decodeDelivered(
  topic: string,
  payload: Uint8Array,
  h: MsgHdrs | undefined,
  shardId: string,
): DeliveredMessage {
  const message = decodeMessage(topic, payload, h);
  const sequence = h === undefined ? Number.NaN : Number.parseInt(h.get(NatsHeader.Sequence), 10);
  return Number.isSafeInteger(sequence) && sequence > 0 ? { ...message, shardId, sequence } : { ...message, shardId };
}

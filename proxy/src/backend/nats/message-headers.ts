// Carries an MQTT application message over NATS: the payload is the NATS payload untouched, the MQTT
// metadata travels in `Shoal-…` headers (nats-names.ts). Free-form strings are percent-encoded because
// NATS header values cannot hold CR/LF and lose surrounding whitespace. A message without headers (a
// plain NATS publisher, or a bare QoS 0 publish) decodes as QoS 0, not retained, no properties.
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { DeliveredMessage, ForwardedProperties, Message, QoS, UserProperties } from '../message.js';
import { decodeText, headerBlockText, headerField, headerPairs, readHeaderBlock, type ShoalHeaderValues } from './header-block.js';

/** A message as NATS carries it. `headers` is undefined when there is nothing to say. */
export interface EncodedMessage {
  readonly headers: MsgHdrs | undefined;
  readonly payload: Uint8Array;
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

/**
 * The headers as a MsgHdrs (for js.publish on the cold paths: retained messages) and the payload; no headers at
 * all for a bare QoS 0, non-retained message. The hot path writes headerBlockText's bytes itself (nats-wire.ts).
 */
export function encodeMessage(message: Message): EncodedMessage {
  const text = headerBlockText(message);
  if (text === undefined) return { headers: undefined, payload: message.payload };
  const h = natsHeaders(); // fresh: append each header once (set() would first scan for an old value)
  for (const [key, value] of headerPairs(text)) h.append(key, value);
  return { headers: h, payload: message.payload };
}

function decodeQoS(value: string | undefined): QoS {
  return value === '1' ? 1 : value === '2' ? 2 : 0;
}

// One pass over the header map (exact keys, as MsgHdrs.get matches them by default) instead of a
// findKeys() scan per header looked up: this runs for every delivered message.
function readHeaders(h: MsgHdrs): ShoalHeaderValues {
  const v: ShoalHeaderValues = {};
  for (const [key, values] of h) {
    const first = values[0];
    const field = headerField(key);
    if (first === undefined || field === undefined) continue;
    if (field === 'userProperties') v.userProperties = [...values];
    else if (field === 'sequence') v.sequence = Number.parseInt(first, 10);
    else v[field] = first;
  }
  return v;
}

function decodeProperties(v: ShoalHeaderValues): ForwardedProperties | undefined {
  const none =
    v.payloadFormat === undefined &&
    v.contentType === undefined &&
    v.responseTopic === undefined &&
    v.correlationData === undefined &&
    v.userProperties === undefined;
  if (none) return undefined; // the usual case: no object to build
  const properties: {
    payloadFormatIndicator?: boolean;
    contentType?: string;
    responseTopic?: string;
    correlationData?: Uint8Array;
    userProperties?: UserProperties;
  } = {};
  let any = false;
  if (v.payloadFormat !== undefined) {
    properties.payloadFormatIndicator = v.payloadFormat === '1';
    any = true;
  }
  const contentType = v.contentType === undefined ? undefined : decodeText(v.contentType);
  if (contentType !== undefined) {
    properties.contentType = contentType;
    any = true;
  }
  const responseTopic = v.responseTopic === undefined ? undefined : decodeText(v.responseTopic);
  if (responseTopic !== undefined) {
    properties.responseTopic = responseTopic;
    any = true;
  }
  if (v.correlationData !== undefined) {
    properties.correlationData = new Uint8Array(Buffer.from(v.correlationData, 'base64'));
    any = true;
  }
  const userProperties = v.userProperties === undefined ? undefined : decodeUserProperties(v.userProperties);
  if (userProperties !== undefined) {
    properties.userProperties = userProperties;
    any = true;
  }
  return any ? properties : undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Adds what the headers say beyond QoS and retain. */
function fill(message: Mutable<Message>, v: ShoalHeaderValues): void {
  const expiresAt = v.expiresAt === undefined ? Number.NaN : Number.parseInt(v.expiresAt, 10);
  if (Number.isSafeInteger(expiresAt)) message.expiresAtMs = expiresAt;
  const origin = v.origin === undefined ? undefined : decodeText(v.origin);
  if (origin !== undefined) message.originClientId = origin;
  const properties = decodeProperties(v);
  if (properties !== undefined) message.properties = properties;
}

/** The MQTT message a NATS message carries; `topic` comes from its subject (subjectToTopic). */
export function decodeMessage(topic: string, payload: Uint8Array, h: MsgHdrs | undefined): Message {
  if (h === undefined) return { topic, payload, qos: 0, retain: false };
  const v = readHeaders(h);
  const message: Mutable<Message> = { topic, payload, qos: decodeQoS(v.qos), retain: v.retain === '1' };
  fill(message, v);
  return message;
}

/**
 * A message received on a live subject of shard `shardId`, its headers as the raw block (nats-wire.ts) or as
 * MsgHdrs; a message SHOAL_MSGS re-published carries its stream sequence in `Nats-Sequence`.
 */
export function decodeDelivered(
  topic: string,
  payload: Uint8Array,
  h: Uint8Array | MsgHdrs | undefined,
  shardId: string,
): DeliveredMessage {
  if (h === undefined) return { topic, payload, qos: 0, retain: false, shardId };
  const v = h instanceof Uint8Array ? readHeaderBlock(h) : readHeaders(h);
  const message: Mutable<DeliveredMessage> = { topic, payload, qos: decodeQoS(v.qos), retain: v.retain === '1', shardId };
  fill(message, v);
  const sequence = v.sequence ?? Number.NaN;
  if (Number.isSafeInteger(sequence) && sequence > 0) message.sequence = sequence;
  return message;
}

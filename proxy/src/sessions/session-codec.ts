// How both session stores write a session down and read it back: JSON with bytes as base64, validated with zod
// on the way back in, so a record this proxy did not write is a CorruptSessionError, never a crash later on.
// A session is kept in parts (the Redis layout; the memory store keeps the same strings): `state` (in-flight
// messages, inbound QoS 2 flows), one entry per subscription (by topic filter), one cursor per shard.
import { z } from 'zod';
import type { Message } from '../backend/message.js';
import type { OutboundMessage } from '../protocol/outbound-flow.js';
import type { Will } from '../protocol/will.js';
import { CorruptSessionError } from './session-errors.js';
import type { Qos2InboundRecord, SessionCursors, SessionRecord, SubscriptionRecord, InflightRecord } from './session-store.js';
import { asBuffer } from '../bytes.js';

/** The keys of T whose value may be undefined become optional keys without undefined (exactOptionalPropertyTypes). */
type Compact<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

function compact<T extends object>(value: T): Compact<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Compact<T>;
}

const toBase64 = (bytes: Uint8Array): string => asBuffer(bytes).toString('base64');
const Bytes = z.base64().transform((text) => Uint8Array.from(Buffer.from(text, 'base64')));
const Qos = z.union([z.literal(0), z.literal(1), z.literal(2)]);
const PacketId = z.int().min(1).max(65_535);

const Properties = z
  .strictObject({
    payloadFormatIndicator: z.boolean().optional(),
    contentType: z.string().optional(),
    responseTopic: z.string().optional(),
    correlationData: Bytes.optional(),
    userProperties: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  })
  .transform(compact);

const MessageFields = {
  topic: z.string(),
  payload: Bytes,
  qos: Qos,
  retain: z.boolean(),
  properties: Properties.optional(),
  expiresAtMs: z.number().optional(),
};

const Origin = z.strictObject({ shardId: z.string(), sequence: z.int().min(1) });
const Outbound = z
  .strictObject({ ...MessageFields, subscriptionIds: z.array(z.int()).optional(), origin: Origin.optional() })
  .transform(compact);
const WillMessage = z.strictObject({ ...MessageFields, originClientId: z.string().optional() }).transform(compact);

const State = z.strictObject({
  inflightOut: z.array(z.strictObject({ packetId: PacketId, message: Outbound, released: z.boolean() })),
  qos2In: z.array(z.strictObject({ packetId: PacketId, messageId: z.string() })),
});

const Subscription = z
  .strictObject({
    topicFilter: z.string(),
    qos: Qos,
    noLocal: z.boolean(),
    retainAsPublished: z.boolean(),
    retainHandling: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    subscriptionId: z.int().optional(),
  })
  .transform(compact);

const WillRecord = z
  .strictObject({ message: WillMessage, delaySeconds: z.number(), expirySeconds: z.number().optional() })
  .transform(compact);

const ProtocolVersion = z.coerce.number().pipe(z.union([z.literal(3), z.literal(4), z.literal(5)]));
const Count = z.coerce.number().pipe(z.int().min(0));

function parse<S extends z.ZodType>(schema: S, clientId: string, part: string, text: string, json = true): z.output<S> {
  let value: unknown = text;
  try {
    if (json) value = JSON.parse(text);
  } catch (err: unknown) {
    throw new CorruptSessionError(clientId, part, { cause: err });
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new CorruptSessionError(clientId, part, { cause: result.error });
  return result.data;
}

type MessageJson = z.input<typeof Outbound> & z.input<typeof WillMessage>;

/** The stored fields only: a delivered message carries more (shard id, sequence) that is not the session's. */
function messageJson(message: OutboundMessage & Pick<Message, 'originClientId'>): MessageJson {
  const { properties: p } = message;
  const properties =
    p === undefined
      ? undefined
      : {
          payloadFormatIndicator: p.payloadFormatIndicator,
          contentType: p.contentType,
          responseTopic: p.responseTopic,
          correlationData: p.correlationData === undefined ? undefined : toBase64(p.correlationData),
          userProperties: p.userProperties,
        };
  return {
    topic: message.topic,
    payload: toBase64(message.payload),
    qos: message.qos,
    retain: message.retain,
    properties,
    expiresAtMs: message.expiresAtMs,
    subscriptionIds: message.subscriptionIds === undefined ? undefined : [...message.subscriptionIds],
    origin: message.origin === undefined ? undefined : { shardId: message.origin.shardId, sequence: message.origin.sequence },
    originClientId: message.originClientId,
  };
}

/** The `state` part: in-flight messages and inbound QoS 2 flows. */
export function encodeState(record: Pick<SessionRecord, 'inflightOut' | 'qos2In'>): string {
  return JSON.stringify({
    inflightOut: record.inflightOut.map((flow) => {
      const { originClientId: _none, ...message } = messageJson(flow.message);
      return { packetId: flow.packetId, message, released: flow.released };
    }),
    qos2In: record.qos2In.map((flow) => ({ packetId: flow.packetId, messageId: flow.messageId })),
  });
}

export function encodeSubscription(s: SubscriptionRecord): string {
  const { topicFilter, qos, noLocal, retainAsPublished, retainHandling, subscriptionId } = s;
  return JSON.stringify({ topicFilter, qos, noLocal, retainAsPublished, retainHandling, subscriptionId });
}

export function encodeWill(will: Will): string {
  const { subscriptionIds: _none, ...message } = messageJson(will.message);
  return JSON.stringify({ message, delaySeconds: will.delaySeconds, expirySeconds: will.expirySeconds });
}

export function decodeWill(clientId: string, text: string): Will {
  return parse(WillRecord, clientId, 'will', text);
}

/** A session as both stores keep it: the strings (or numbers) Redis would hold. */
export interface RawSession {
  readonly protocolVersion: string | number;
  readonly expiryIntervalSeconds: string | number;
  /** Absent until the session was first saved. */
  readonly state: string | undefined;
  /** [topic filter, encoded subscription] */
  readonly subscriptions: Iterable<readonly [string, string]>;
  /** [shard id, sequence] */
  readonly cursors: Iterable<readonly [string, string | number]>;
}

/** Reads a stored session back; CorruptSessionError names the part that is not what this proxy writes. */
export function decodeSession(clientId: string, raw: RawSession): SessionRecord {
  const state = raw.state === undefined ? { inflightOut: [], qos2In: [] } : parse(State, clientId, 'state', raw.state);
  const subscriptions: SubscriptionRecord[] = [];
  for (const [, text] of raw.subscriptions) subscriptions.push(parse(Subscription, clientId, 'subscription', text));
  const cursors: Record<string, number> = {};
  for (const [shardId, sequence] of raw.cursors) cursors[shardId] = parse(Count, clientId, 'cursor', String(sequence), false);
  const inflightOut: InflightRecord[] = state.inflightOut;
  const qos2In: Qos2InboundRecord[] = state.qos2In;
  const sessionCursors: SessionCursors = cursors;
  return {
    clientId,
    protocolVersion: parse(ProtocolVersion, clientId, 'state', String(raw.protocolVersion), false),
    expiryIntervalSeconds: parse(Count, clientId, 'state', String(raw.expiryIntervalSeconds), false),
    subscriptions,
    inflightOut,
    qos2In,
    cursors: sessionCursors,
  };
}

import type { DeliveredMessage, Message } from './message.js';

/** Called for each message that reaches a subscription; must not throw. */
export type DeliveryHandler = (message: DeliveredMessage) => void;

/** Identifies one interest of this proxy in a topic filter (optionally a shared-subscription group). */
export interface InterestKey {
  /** MQTT topic filter without any `$share/<group>/` prefix, already validated. */
  readonly filter: string;
  /** Shared subscription group; becomes a NATS queue group so each message reaches one member fleet-wide. */
  readonly shareGroup?: string;
}

/** Identity of an interest: equal keys give equal ids (a share name cannot contain U+0000). */
export function interestId(key: InterestKey): string {
  return key.shareGroup === undefined ? `\u0000${key.filter}` : `${key.shareGroup}\u0000${key.filter}`;
}

/** What `publish` may be told in addition to the message. */
export interface PublishOptions {
  /**
   * De-duplication id for stored messages (JetStream `Nats-Msg-Id`): the same id published twice within the
   * stream's duplicate window is stored once.
   */
  readonly messageId?: string;
}

/** A read of stored (QoS ≥ 1) messages of one shard, for offline delivery. */
export interface StoredReadRequest {
  readonly shardId: string;
  /** MQTT topic filters (no `$share/` prefix); a message matching any of them is returned once. */
  readonly filters: readonly string[];
  /** Messages with a larger stream sequence are returned. */
  readonly afterSequence: number;
  /** At most this many messages. */
  readonly limit: number;
}

/** What one stored read found. */
export interface StoredBatch {
  /** Matching messages in stream-sequence order, every one after `afterSequence`. */
  readonly messages: readonly DeliveredMessage[];
  /** Every matching message up to this sequence is in `messages` (or before `afterSequence`): the next read starts here. */
  readonly readThrough: number;
  /** The read reached the end of the stream: every matching message stored so far was returned. */
  readonly end: boolean;
}

/**
 * The proxy's view of the message layer. Protocol handlers and the broker speak only to this interface,
 * never to NATS. The NATS implementation holds one connection per shard and one NATS subscription per
 * distinct interest per shard (the broker reference-counts interests, the backend never sees duplicates).
 */
export interface MessageBackend {
  /**
   * Publishes a message to the shard that owns its topic. QoS 0: fire and forget (resolves once buffered).
   * QoS ≥ 1: resolves only after the owning shard's JetStream acknowledged the store; rejects with
   * `BackendUnavailableError` when the shard cannot be reached in time. A retained message is also stored as
   * the topic's retained message; an empty retained payload deletes it [MQTT-3.3.1-6], [MQTT-3.3.1-7].
   */
  publish(message: Message, options?: PublishOptions): Promise<void>;

  /**
   * Starts delivering messages matching the interest to `handler`. Called once per distinct interest. Resolves
   * once the shards have registered it, so a message published after that is delivered (bounded wait: a shard
   * that does not answer does not hold the caller up for long).
   */
  addInterest(key: InterestKey, handler: DeliveryHandler): Promise<void>;

  /** Stops the interest started by `addInterest` with an equal key. */
  removeInterest(key: InterestKey): void;

  /** The retained messages matching a filter, across every shard that may hold one [MQTT-3.3.1-9]. */
  readRetained(filter: string): Promise<readonly Message[]>;

  /**
   * Reads stored messages of one shard after a sequence (offline delivery of a persistent session). Uses no
   * per-session server state (no consumer). Rejects with `BackendUnavailableError` when the shard cannot be read.
   */
  readStored(request: StoredReadRequest): Promise<StoredBatch>;

  /**
   * The first sequence the shard's stream still holds: a reader whose cursor is below it minus one lost what
   * retention removed. Ask it before reading, so what is removed meanwhile reads as missing, not as never there.
   */
  firstStoredSequence(shardId: string): Promise<number>;

  /** The shards that may hold stored messages matching these filters: the current ring's, and the previous one's during a transition. */
  storedShards(filters: readonly string[]): readonly string[];

  /**
   * A sequence of the shard's stored messages up to which every message has already been handed to this proxy's
   * matching interests (the largest sequence delivered here, or the stream's last one when nothing was): where a new
   * subscription's offline cursor starts.
   */
  sequenceFloor(shardId: string): Promise<number>;

  /** The largest stored sequence this proxy delivered from a shard to its interests, if any. */
  deliveredThrough(shardId: string): number | undefined;

  /** True when every shard of the current ring is connected. */
  isReady(): boolean;

  /** Closes every connection and subscription. */
  close(): Promise<void>;
}

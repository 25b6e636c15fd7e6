// What the protocol layer needs from the rest of the proxy, as interfaces: the protocol never imports NATS,
// Redis or prom-client.
import type { InterestKey, PublishOptions, StoredBatch, StoredReadRequest } from '../backend/message-backend.js';
import type { DeliveredMessage, Message, QoS } from '../backend/message.js';
import type { AuthFailureReason } from '../auth/authenticators.js';
import type { AclAction } from '../auth/acl.js';
import type { DropReason } from './outbound-flow.js';
import type { RateLimitScope } from './connect-rate-limit.js';

/** A local subscription the router delivers to. */
export interface LocalSubscriber {
  readonly key: InterestKey;
  deliver(message: DeliveredMessage): void;
}

/** Publishing and subscribing as seen by a connection. */
export interface MessageRouter {
  publish(message: Message, options?: PublishOptions): Promise<void>;
  /**
   * Adds a local subscriber; the first one for a key opens the interest on the shards. Resolves once the shards
   * registered the interest (messages published from then on reach the subscriber).
   */
  attach(subscriber: LocalSubscriber): Promise<void>;
  /** Removes a local subscriber; the last one for a key closes the interest. */
  detach(subscriber: LocalSubscriber): void;
  readRetained(filter: string): Promise<readonly Message[]>;
  /** Stored messages of one shard after a sequence (offline delivery); see MessageBackend.readStored. */
  readStored(request: StoredReadRequest): Promise<StoredBatch>;
  /** The first sequence a shard's stream still holds; see MessageBackend.firstStoredSequence. */
  firstStoredSequence(shardId: string): Promise<number>;
  /** The shards whose stored messages may match these filters. */
  storedShards(filters: readonly string[]): readonly string[];
  /** Where a new subscription's offline cursor starts on a shard; see MessageBackend.sequenceFloor. */
  sequenceFloor(shardId: string): Promise<number>;
  /** The largest stored sequence this proxy delivered from a shard to its subscriptions, if any. */
  deliveredThrough(shardId: string): number | undefined;
}

/** Result label of a CONNECT, for the connects counter. */
export type ConnectResult = 'accepted' | 'rejected' | 'malformed' | 'timeout' | 'unavailable' | 'busy';

/** The metrics the protocol reports; implemented with prom-client in observability/. */
export interface ProtocolMetrics {
  connectionOpened(): void;
  connectionClosed(): void;
  connect(result: ConnectResult): void;
  packetReceived(type: string): void;
  published(qos: QoS): void;
  publishFailed(qos: QoS): void;
  delivered(qos: QoS): void;
  dropped(reason: DropReason, qos: QoS): void;
  bytesIn(bytes: number): void;
  bytesOut(bytes: number): void;
  /** Offline messages replayed to a resumed session. */
  offlineReplayed(count: number): void;
  /** A resumed session's cursor was behind what retention kept: up to `missed` stored messages were lost to it. */
  offlineGap(missed: number): void;
  /** A CONNECT the authentication chain refused (or whose will the ACL refused). */
  authFailed(reason: AuthFailureReason): void;
  /** A PUBLISH or SUBSCRIBE the ACL refused. */
  aclDenied(action: AclAction): void;
  /** A CONNECT refused by a connect-rate bucket. */
  connectRateLimited(scope: RateLimitScope): void;
  /** A connection closed because its peer stopped reading (slow-read protection). */
  slowReaderClosed(): void;
}

/** Metrics that count nothing, for tests that do not look at them. */
export const noMetrics: ProtocolMetrics = {
  connectionOpened: () => undefined,
  connectionClosed: () => undefined,
  connect: () => undefined,
  packetReceived: () => undefined,
  published: () => undefined,
  publishFailed: () => undefined,
  delivered: () => undefined,
  dropped: () => undefined,
  bytesIn: () => undefined,
  bytesOut: () => undefined,
  offlineReplayed: () => undefined,
  offlineGap: () => undefined,
  authFailed: () => undefined,
  aclDenied: () => undefined,
  connectRateLimited: () => undefined,
  slowReaderClosed: () => undefined,
};

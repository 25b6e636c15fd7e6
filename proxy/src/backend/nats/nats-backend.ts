// The MessageBackend over NATS JetStream shards. Publishes go to the shard that owns the topic (QoS 0 on
// the live subject, QoS ≥ 1 into SHOAL_MSGS, which re-publishes them live with their sequence); each
// interest is one NATS subscription per subject per shard the routing table names for its filter.
//
// [MQTT-4.7.2-1] is applied in the backend, not by the caller: an interest whose filter starts with a wildcard
// never receives (interest-set.ts) nor reads retained (retained-read.ts) topics beginning with `$`.
import { BackendUnavailableError } from '../../errors.js';
import type { Clock } from '../../clock.js';
import { systemClock } from '../../clock.js';
import type { RoutingTable } from '../../routing/routing-table.js';
import { topicToSubject } from '../../routing/subject-mapping.js';
import type { Message, QoS } from '../message.js';
import type {
  DeliveryHandler,
  InterestKey,
  MessageBackend,
  PublishOptions,
  StoredBatch,
  StoredReadRequest,
} from '../message-backend.js';
import { InterestSet } from './interest-set.js';
import { ShardWriter } from './shard-writer.js';
import { readRetainedOnShards } from './retained-read.js';
import type { NatsLog, ShardLink, ShardPool, ShardStateChange } from './shard-pool.js';
import { StoredDelivery } from './stored-delivery.js';
import { StreamKeeper } from './stream-keeper.js';
import type { StreamOptions } from './streams.js';

export type PublishOutcome = 'ok' | 'failed' | 'dropped';

/** What publish returns when nothing is left to wait for (one promise for all of them). */
const SETTLED: Promise<void> = Promise.resolve();

/** Hooks for metrics (the backend knows no metrics library); every hook is optional. */
export interface NatsBackendMetrics {
  /** A publish finished; `dropped`: QoS 0 to a shard that is not connected. */
  publishCompleted?(shardId: string, qos: QoS, outcome: PublishOutcome, seconds: number): void;
  /** A message arrived from a shard for one of this proxy's interests. */
  messageReceived?(shardId: string): void;
  /** The number of NATS subscriptions this proxy holds over all shards changed. */
  subscriptionsChanged?(count: number): void;
}

export interface NatsBackendOptions {
  /** The connections; the backend owns the pool from now on and closes it in close(). */
  readonly pool: ShardPool;
  readonly table: RoutingTable;
  /** This proxy's identity, in log lines (the pool names the connections with it). */
  readonly proxyId: string;
  /** How long a QoS ≥ 1 publish (and a retained store) waits for JetStream's acknowledgement. */
  readonly publishTimeoutMs: number;
  /** Bound of readRetained over all shards; publishTimeoutMs when absent. */
  readonly retainedReadTimeoutMs?: number;
  readonly log: NatsLog;
  readonly metrics?: NatsBackendMetrics;
  /** Create or update the streams on every shard when it connects; absent: someone else owns them. */
  readonly streams?: StreamOptions;
  /** Delay before retrying a failed stream setup. Default 2 s. */
  readonly streamRetryMs?: number;
  /** Message expiry and latency figures. */
  readonly clock?: Clock;
}

/** MessageBackend on JetStream shards; see the module comment. */
export class NatsBackend implements MessageBackend {
  private table: RoutingTable;
  private readonly pool: ShardPool;
  private readonly clock: Clock;
  private readonly interests: InterestSet;
  private readonly stored: StoredDelivery;
  /** The frames a publish writes to its shard (shard-writer.ts). */
  private readonly writer: ShardWriter;
  /** Ensures the streams on each shard when `streams` is set. */
  private readonly streamKeeper: StreamKeeper | undefined;
  private readonly stopListening: () => void;
  private readonly readinessListeners = new Set<(ready: boolean) => void>();
  private lastReady = false;
  private closed = false;

  constructor(private readonly options: NatsBackendOptions) {
    this.table = options.table;
    this.pool = options.pool;
    this.clock = options.clock ?? systemClock;
    this.writer = new ShardWriter(this.clock, options.publishTimeoutMs);
    this.interests = new InterestSet({
      links: (shardId) => this.pool.link(shardId),
      log: options.log,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    });
    this.stored = new StoredDelivery({
      clock: this.clock,
      log: options.log,
      table: () => this.table,
      connectedLink: (shardId) => this.connectedLink(shardId),
      readTimeoutMs: options.retainedReadTimeoutMs ?? options.publishTimeoutMs,
      retryMs: options.streamRetryMs ?? 2_000,
    });
    this.streamKeeper =
      options.streams === undefined
        ? undefined
        : new StreamKeeper({
            streams: options.streams,
            link: (shardId) => this.pool.link(shardId),
            connected: (shardId) => !this.closed && this.pool.stateOf(shardId) === 'connected',
            onReady: () => this.checkReadiness(),
            log: options.log,
            proxyId: options.proxyId,
            retryMs: options.streamRetryMs ?? 2_000,
          });
    this.stopListening = this.pool.onStateChange((change) => this.onShardState(change));
    this.pool.applyRing(options.table).catch((error: unknown) => {
      options.log.error({ err: error, proxyId: options.proxyId }, 'applying the ring failed');
    });
  }

  /** Switches to a new routing table: connects new shards, closes removed ones, moves subscriptions. */
  async applyRing(table: RoutingTable): Promise<void> {
    if (this.closed) return;
    this.table = table;
    const pool = this.pool.applyRing(table); // opens and starts closing synchronously
    this.interests.retarget((filter) => table.subscriptionTargets(filter));
    this.checkReadiness();
    await pool;
  }

  /** Listens to changes of isReady(); returns the function that stops listening. */
  onReadinessChange(listener: (ready: boolean) => void): () => void {
    this.readinessListeners.add(listener);
    return () => this.readinessListeners.delete(listener);
  }

  private checkReadiness(): void {
    const ready = this.isReady();
    if (ready === this.lastReady) return;
    this.lastReady = ready;
    for (const listener of [...this.readinessListeners]) listener(ready);
  }

  /**
   * See MessageBackend.publish: writes the message to its owning shard; settles when the shard stored it (QoS ≥ 1
   * or retained), at once otherwise; a topic NATS cannot carry throws the mapping's ProtocolError first. Not an
   * async function: one `then` per stored message instead of an async frame and its awaits, on the path every QoS 1
   * PUBLISH takes.
   */
  publish(message: Message, options?: PublishOptions): Promise<void> {
    const shard = this.table.publishTarget(message.topic);
    const link = this.pool.stateOf(shard.id) === 'connected' && !this.closed ? this.pool.link(shard.id) : undefined;
    if (message.qos === 0 && !message.retain && link === undefined) {
      this.completed(shard.id, message.qos, 'dropped', undefined);
      return SETTLED;
    }
    const started = this.clock.now();
    let stored: Promise<unknown> | undefined;
    try {
      if (link === undefined) throw new Error(`shard is ${this.pool.stateOf(shard.id) ?? 'not in the ring'}`);
      stored = this.writer.write(link, topicToSubject(message.topic), message, options?.messageId);
    } catch (error) {
      return Promise.reject(this.failed(shard.id, message.qos, started, error));
    }
    if (stored === undefined) {
      this.completed(shard.id, message.qos, 'ok', started);
      return SETTLED;
    }
    return stored.then(
      () => this.completed(shard.id, message.qos, 'ok', started),
      (error: unknown) => {
        throw this.failed(shard.id, message.qos, started, error);
      },
    );
  }

  /** Counts a finished publish; `started` undefined: it never reached a shard (the round trip is not observed). */
  private completed(shardId: string, qos: QoS, outcome: PublishOutcome, started: number | undefined): void {
    const metrics = this.options.metrics;
    if (metrics?.publishCompleted === undefined) return;
    metrics.publishCompleted(shardId, qos, outcome, started === undefined ? 0 : (this.clock.now() - started) / 1_000);
  }

  private failed(shardId: string, qos: QoS, started: number, error: unknown): BackendUnavailableError {
    this.completed(shardId, qos, 'failed', started);
    return new BackendUnavailableError(`nats:${shardId}`, `publish to shard ${shardId} failed: ${(error as Error).message}`, { cause: error });
  }

  addInterest(key: InterestKey, handler: DeliveryHandler): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.interests.add(key, this.stored.track(key, handler), this.table.subscriptionTargets(key.filter));
  }

  readStored(request: StoredReadRequest): Promise<StoredBatch> {
    return this.stored.readStored(request);
  }

  firstStoredSequence(shardId: string): Promise<number> {
    return this.stored.firstStoredSequence(shardId);
  }

  storedShards(filters: readonly string[]): readonly string[] {
    return this.stored.storedShards(filters);
  }

  sequenceFloor(shardId: string): Promise<number> {
    return this.stored.sequenceFloor(shardId);
  }

  deliveredThrough(shardId: string): number | undefined {
    return this.stored.deliveredThrough(shardId);
  }

  private connectedLink(shardId: string): ShardLink {
    const link = this.pool.stateOf(shardId) === 'connected' && !this.closed ? this.pool.link(shardId) : undefined;
    if (link === undefined) {
      throw new BackendUnavailableError(`nats:${shardId}`, `shard ${shardId} is ${this.pool.stateOf(shardId) ?? 'not in the ring'}`);
    }
    return link;
  }

  removeInterest(key: InterestKey): void {
    this.stored.untrack(key);
    this.interests.remove(key);
  }

  /** The retained messages matching `filter` on the shards the table names for it (retained-read.ts). */
  readRetained(filter: string): Promise<readonly Message[]> {
    const timeoutMs = this.options.retainedReadTimeoutMs ?? this.options.publishTimeoutMs;
    return readRetainedOnShards(this.pool, this.clock, this.table, filter, timeoutMs);
  }

  /** True when every shard of the current table is connected (and its streams exist, when ensuring them). */
  isReady(): boolean {
    if (this.closed) return false;
    return this.table
      .allShards()
      .every(
        (shard) =>
          this.pool.stateOf(shard.id) === 'connected' &&
          (this.streamKeeper === undefined || this.streamKeeper.isReady(shard.id)),
      );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopListening();
    this.checkReadiness();
    this.readinessListeners.clear();
    this.streamKeeper?.close();
    this.interests.clear();
    await this.pool.close();
  }

  private onShardState(change: ShardStateChange): void {
    if (this.closed) return;
    if (change.state === 'closed') {
      this.streamKeeper?.shardClosed(change.shardId);
      this.interests.shardClosed(change.shardId);
    } else if (change.state === 'connected') {
      this.interests.shardConnected(change.shardId);
      this.streamKeeper?.ensure(change.shardId);
    }
    // after the re-subscriptions: a gap's reads then follow them on the connection
    this.stored.shardState(change);
    this.checkReadiness();
  }
}

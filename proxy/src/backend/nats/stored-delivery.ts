// The stored-message side of the NATS backend: what each interest was delivered (sequences per shard), offline
// reads for resumed sessions, and the repair of the gap a shard reconnect leaves in live delivery.
import { BackendUnavailableError } from '../../errors.js';
import type { Clock } from '../../clock.js';
import type { RoutingTable } from '../../routing/routing-table.js';
import { interestId, type DeliveryHandler, type InterestKey, type StoredBatch, type StoredReadRequest } from '../message-backend.js';
import { GapRepair, type RepairTarget } from './gap-repair.js';
import { withDeadline } from './retained.js';
import type { NatsLog, ShardLink, ShardStateChange } from './shard-pool.js';
import { ShardSequences } from './shard-sequences.js';
import { readStoredMessages } from './stored-reader.js';

/** Live messages held per interest while a gap after a shard reconnect is repaired. */
const GAP_HOLD_MAX = 10_000;
/** Stored messages per read when repairing such a gap. */
const GAP_BATCH = 256;

export interface StoredDeliveryDeps {
  readonly clock: Clock;
  readonly log: NatsLog;
  /** The routing table in force. */
  table(): RoutingTable;
  /** The shard's connection when it is connected; throws BackendUnavailableError otherwise. */
  connectedLink(shardId: string): ShardLink;
  readonly readTimeoutMs: number;
  readonly retryMs: number;
}

export class StoredDelivery {
  private readonly sequences: ShardSequences;
  private readonly gaps: GapRepair;
  /** Every interest, by id, as the gap repair hands it messages. */
  private readonly targets = new Map<string, RepairTarget>();
  private readonly nowMs = (): number => this.deps.clock.now();

  constructor(private readonly deps: StoredDeliveryDeps) {
    this.sequences = new ShardSequences(() => deps.clock.now());
    this.gaps = new GapRepair({
      read: (shardId, filter, afterSequence) => this.readMatching({ shardId, filters: [filter], afterSequence, limit: GAP_BATCH }),
      deliveredThrough: (shardId) => this.sequences.deliveredThrough(shardId),
      freeze: (shardId, at) => this.sequences.freeze(shardId, at),
      thaw: (shardId) => this.sequences.thaw(shardId),
      log: deps.log,
      retryMs: deps.retryMs,
      holdMax: GAP_HOLD_MAX,
    });
  }

  /** Wraps an interest's handler: sequences are noted, and live messages wait behind a gap repair. */
  track(key: InterestKey, handler: DeliveryHandler): DeliveryHandler {
    const skipDollar = key.filter.startsWith('+') || key.filter.startsWith('#'); // [MQTT-4.7.2-1]
    const target: RepairTarget = {
      key,
      deliver: (message) => {
        if (skipDollar && message.topic.startsWith('$')) return;
        if (message.sequence !== undefined) this.sequences.delivered(message.shardId, message.sequence);
        handler(message);
      },
    };
    this.untrack(key);
    this.targets.set(interestId(key), target);
    return (message) => {
      if (!this.gaps.hold(target, message)) target.deliver(message);
    };
  }

  untrack(key: InterestKey): void {
    const target = this.targets.get(interestId(key));
    if (target === undefined) return;
    this.targets.delete(interestId(key));
    this.gaps.forget(target);
  }

  /** Follows shard connections: a drop starts a gap, the next connection repairs it (after the re-subscriptions). */
  shardState(change: ShardStateChange): void {
    const table = this.deps.table();
    const dropped = change.previous === 'connected' && (change.state === 'reconnecting' || change.state === 'closed');
    if (dropped && table.allShards().some((shard) => shard.id === change.shardId)) {
      const onShard = [...this.targets.values()].filter((t) =>
        table.subscriptionTargets(t.key.filter).some((shard) => shard.id === change.shardId),
      );
      this.gaps.interrupted(change.shardId, onShard);
    }
    if (change.state === 'closed') this.sequences.forget(change.shardId);
    if (change.state === 'connected') this.gaps.resumed(change.shardId);
  }

  async readStored(request: StoredReadRequest): Promise<StoredBatch> {
    try {
      return await this.readMatching(request);
    } catch (error) {
      throw unavailable(request.shardId, 'reading stored messages', error);
    }
  }

  async firstStoredSequence(shardId: string): Promise<number> {
    try {
      const link = this.deps.connectedLink(shardId);
      return await withDeadline(this.sequences.firstSequence(shardId, () => link.jsm()), this.nowMs() + this.deps.readTimeoutMs, this.nowMs);
    } catch (error) {
      throw unavailable(shardId, 'reading the first sequence', error);
    }
  }

  storedShards(filters: readonly string[]): readonly string[] {
    const table = this.deps.table();
    return [...new Set(filters.flatMap((filter) => table.subscriptionTargets(filter).map((shard) => shard.id)))];
  }

  async sequenceFloor(shardId: string): Promise<number> {
    try {
      const link = this.deps.connectedLink(shardId);
      return await this.sequences.floor(shardId, () => link.jsm());
    } catch (error) {
      throw unavailable(shardId, 'reading the sequence', error);
    }
  }

  deliveredThrough(shardId: string): number | undefined {
    return this.sequences.deliveredThrough(shardId);
  }

  /** The stored messages a request matches, read on the shard's connection within the read timeout. */
  private async readMatching(request: StoredReadRequest): Promise<StoredBatch> {
    const deadlineMs = this.nowMs() + this.deps.readTimeoutMs;
    const jsm = await withDeadline(this.deps.connectedLink(request.shardId).jsm(), deadlineMs, this.nowMs);
    return readStoredMessages(jsm, { ...request, deadlineMs, nowMs: this.nowMs });
  }
}

function unavailable(shardId: string, what: string, error: unknown): BackendUnavailableError {
  if (error instanceof BackendUnavailableError) return error;
  return new BackendUnavailableError(`nats:${shardId}`, `${what} of shard ${shardId} failed: ${(error as Error).message}`, { cause: error });
}

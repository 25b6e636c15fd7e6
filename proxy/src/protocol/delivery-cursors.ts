import type { SessionCursors } from '../sessions/session-store.js';

/** The stored messages of one shard handed to a session's outbound flow and not yet settled, in sequence order. */
class PendingSequences {
  private readonly order: number[] = [];
  private head = 0;
  /** Sequence → copies not yet settled (a message matching two subscriptions goes out twice). */
  private readonly counts = new Map<number, number>();

  add(sequence: number): void {
    const count = this.counts.get(sequence) ?? 0;
    this.counts.set(sequence, count + 1);
    if (count === 0) this.order.push(sequence);
  }

  settle(sequence: number): void {
    const count = this.counts.get(sequence);
    if (count === undefined) return;
    if (count > 1) {
      this.counts.set(sequence, count - 1);
      return;
    }
    this.counts.delete(sequence);
    while (this.head < this.order.length && !this.counts.has(this.order[this.head] ?? 0)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The smallest sequence not settled, if any. */
  first(): number | undefined {
    return this.head < this.order.length ? this.order[this.head] : undefined;
  }
}

/**
 * The offline cursors of one session: per shard, a SHOAL_MSGS sequence such that every stored message the session
 * is owed after it is either still ahead of it or was never delivered. Offline delivery replays from there.
 *
 * A shard is `live` once the session receives its stored messages from the live path (a new subscription, or a
 * replay that caught up). Then the cursor is the first unsettled message minus one or, with none pending, the
 * largest sequence the proxy delivered from that shard (`highest`): one NATS connection per shard delivers in
 * stream order, so everything up to it has already reached this session. While a shard replays, the cursor is the
 * replay's position instead. Messages still unacknowledged when the session is stored travel in its record
 * (re-sent with DUP) and are skipped by the replay (`isInflight`).
 */
/** What a session knows of one shard. */
interface ShardCursor {
  /** The stored (or started) cursor. */
  base: number | undefined;
  pending: PendingSequences | undefined;
  /** Receives this shard's stored messages from the live path. */
  live: boolean;
  /** The replay's position while the shard replays. */
  replaying: number | undefined;
}

export class DeliveryCursors {
  // created on first use: most sessions of a large fleet hold no cursor while idle
  private shards: Map<string, ShardCursor> | undefined;
  private inflight: Set<string> | undefined;

  constructor(stored: SessionCursors = {}) {
    for (const [shardId, sequence] of Object.entries(stored)) this.shard(shardId).base = sequence;
  }

  /** The stored cursor of a shard (undefined: the session has none there yet). */
  storedCursor(shardId: string): number | undefined {
    return this.shards?.get(shardId)?.base;
  }

  /** The shards the session holds a cursor on. */
  knownShards(): string[] {
    return [...(this.shards ?? new Map<string, ShardCursor>())].filter(([, c]) => c.base !== undefined).map(([id]) => id);
  }

  /** A shard without a cursor starts at `floor` and is live (a new subscription). */
  startLive(shardId: string, floor: number): boolean {
    const cursor = this.shard(shardId);
    if (cursor.base !== undefined || cursor.replaying !== undefined) return false;
    cursor.base = floor;
    cursor.live = true;
    return true;
  }

  /** Marks messages restored with the session as in flight: a replay skips them. */
  restoredInflight(shardId: string, sequence: number): void {
    (this.inflight ??= new Set()).add(`${shardId}\u0000${sequence}`);
  }

  isInflight(shardId: string, sequence: number): boolean {
    return this.inflight?.has(`${shardId}\u0000${sequence}`) === true;
  }

  beginReplay(shardId: string, from: number): void {
    const cursor = this.shard(shardId);
    cursor.live = false;
    cursor.replaying = from;
  }

  isReplaying(shardId: string): boolean {
    return this.shards?.get(shardId)?.replaying !== undefined;
  }

  /** The replay of a shard read through `sequence`. */
  replayedThrough(shardId: string, sequence: number): void {
    const cursor = this.shards?.get(shardId);
    if (cursor?.replaying !== undefined) cursor.replaying = sequence;
  }

  /** The replay caught up: the shard is live from here. */
  endReplay(shardId: string): void {
    const cursor = this.shards?.get(shardId);
    if (cursor?.replaying === undefined) return;
    cursor.base = Math.max(cursor.base ?? 0, cursor.replaying);
    cursor.replaying = undefined;
    cursor.live = true;
  }

  /** A stored message went to the outbound flow at QoS 1/2: it is owed until settled. */
  dispatched(shardId: string, sequence: number): void {
    (this.shard(shardId).pending ??= new PendingSequences()).add(sequence);
  }

  settled(shardId: string, sequence: number): void {
    this.shards?.get(shardId)?.pending?.settle(sequence);
  }

  /** The cursors to store now; `highest` is the proxy's largest delivered sequence per shard. */
  snapshot(highest: (shardId: string) => number | undefined): SessionCursors {
    const cursors: Record<string, number> = {};
    for (const [shardId, c] of this.shards ?? []) {
      let cursor: number;
      if (c.replaying !== undefined) cursor = c.replaying;
      else if (c.live) cursor = Math.max(c.base ?? 0, highest(shardId) ?? 0);
      else cursor = c.base ?? 0;
      const firstPending = c.pending?.first();
      if (firstPending !== undefined) cursor = Math.min(cursor, firstPending - 1);
      cursors[shardId] = cursor;
    }
    return cursors;
  }

  private shard(shardId: string): ShardCursor {
    this.shards ??= new Map();
    let cursor = this.shards.get(shardId);
    if (cursor === undefined) {
      cursor = { base: undefined, pending: undefined, live: false, replaying: undefined };
      this.shards.set(shardId, cursor);
    }
    return cursor;
  }
}

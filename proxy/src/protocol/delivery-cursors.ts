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
export class DeliveryCursors {
  private readonly base = new Map<string, number>();
  private readonly pending = new Map<string, PendingSequences>();
  private readonly live = new Set<string>();
  private readonly replaying = new Map<string, number>();
  private readonly inflight = new Set<string>();

  constructor(stored: SessionCursors = {}) {
    for (const [shardId, sequence] of Object.entries(stored)) this.base.set(shardId, sequence);
  }

  /** The stored cursor of a shard (undefined: the session has none there yet). */
  storedCursor(shardId: string): number | undefined {
    return this.base.get(shardId);
  }

  /** The shards the session holds a cursor on. */
  knownShards(): string[] {
    return [...this.base.keys()];
  }

  /** A shard without a cursor starts at `floor` and is live (a new subscription). */
  startLive(shardId: string, floor: number): boolean {
    if (this.base.has(shardId) || this.replaying.has(shardId)) return false;
    this.base.set(shardId, floor);
    this.live.add(shardId);
    return true;
  }

  /** Marks messages restored with the session as in flight: a replay skips them. */
  restoredInflight(shardId: string, sequence: number): void {
    this.inflight.add(`${shardId}\u0000${sequence}`);
  }

  isInflight(shardId: string, sequence: number): boolean {
    return this.inflight.has(`${shardId}\u0000${sequence}`);
  }

  beginReplay(shardId: string, from: number): void {
    this.live.delete(shardId);
    this.replaying.set(shardId, from);
  }

  isReplaying(shardId: string): boolean {
    return this.replaying.has(shardId);
  }

  /** The replay of a shard read through `sequence`. */
  replayedThrough(shardId: string, sequence: number): void {
    if (this.replaying.has(shardId)) this.replaying.set(shardId, sequence);
  }

  /** The replay caught up: the shard is live from here. */
  endReplay(shardId: string): void {
    const position = this.replaying.get(shardId);
    if (position === undefined) return;
    this.replaying.delete(shardId);
    this.base.set(shardId, Math.max(this.base.get(shardId) ?? 0, position));
    this.live.add(shardId);
  }

  /** A stored message went to the outbound flow at QoS 1/2: it is owed until settled. */
  dispatched(shardId: string, sequence: number): void {
    let pending = this.pending.get(shardId);
    if (pending === undefined) {
      pending = new PendingSequences();
      this.pending.set(shardId, pending);
    }
    pending.add(sequence);
  }

  settled(shardId: string, sequence: number): void {
    this.pending.get(shardId)?.settle(sequence);
  }

  /** The cursors to store now; `highest` is the proxy's largest delivered sequence per shard. */
  snapshot(highest: (shardId: string) => number | undefined): SessionCursors {
    const shards = new Set([...this.base.keys(), ...this.replaying.keys(), ...this.pending.keys()]);
    const cursors: Record<string, number> = {};
    for (const shardId of shards) {
      const firstPending = this.pending.get(shardId)?.first();
      const replay = this.replaying.get(shardId);
      let cursor: number;
      if (replay !== undefined) cursor = replay;
      else if (this.live.has(shardId)) cursor = Math.max(this.base.get(shardId) ?? 0, highest(shardId) ?? 0);
      else cursor = this.base.get(shardId) ?? 0;
      if (firstPending !== undefined) cursor = Math.min(cursor, firstPending - 1);
      cursors[shardId] = cursor;
    }
    return cursors;
  }
}

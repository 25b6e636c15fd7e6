// What this proxy knows of each shard's SHOAL_MSGS sequences: the largest one delivered to its interests
// (one NATS connection per shard delivers in stream order, so every stored message up to it has been handed to
// the interests it matched) and the stream's bounds, asked on demand. Offline cursors start from the first.
import type { JetStreamManager } from '@nats-io/jetstream';
import { StreamBounds } from './stored-reader.js';

export class ShardSequences {
  private readonly highest = new Map<string, number>();
  private readonly bounds = new Map<string, StreamBounds>();
  /** Shards whose reported sequence is held at a value (a gap being repaired). */
  private readonly frozen = new Map<string, number>();

  constructor(private readonly nowMs: () => number) {}

  /** A stored message reached this proxy's interests. */
  delivered(shardId: string, sequence: number): void {
    if (sequence > (this.highest.get(shardId) ?? 0)) this.highest.set(shardId, sequence);
  }

  /** The largest sequence delivered (or the frozen one while a gap is repaired). */
  deliveredThrough(shardId: string): number | undefined {
    return this.frozen.get(shardId) ?? this.highest.get(shardId);
  }

  freeze(shardId: string, at: number): void {
    this.frozen.set(shardId, at);
  }

  thaw(shardId: string): void {
    this.frozen.delete(shardId);
  }

  /**
   * The floor of a new subscription's cursor: the largest sequence delivered here, or the stream's last sequence
   * when nothing was delivered yet (nothing stored before the subscription is owed to it).
   */
  async floor(shardId: string, jsm: () => Promise<JetStreamManager>): Promise<number> {
    const known = this.deliveredThrough(shardId);
    if (known !== undefined) return known;
    const { last } = await this.boundsOf(shardId, jsm).get();
    // the live path may have delivered more meanwhile
    return Math.max(last, this.deliveredThrough(shardId) ?? 0);
  }

  /** The stream's first sequence (what retention kept), asked afresh for each caller (coalesced). */
  async firstSequence(shardId: string, jsm: () => Promise<JetStreamManager>): Promise<number> {
    return (await this.boundsOf(shardId, jsm).get()).first;
  }

  /** The shard's connection was replaced or closed: its knowledge goes with it. */
  forget(shardId: string): void {
    this.bounds.delete(shardId);
  }

  private boundsOf(shardId: string, jsm: () => Promise<JetStreamManager>): StreamBounds {
    let bounds = this.bounds.get(shardId);
    if (bounds === undefined) {
      bounds = new StreamBounds(jsm, this.nowMs);
      this.bounds.set(shardId, bounds);
    }
    return bounds;
  }
}

import type { DeliveredMessage } from '../backend/message.js';

/**
 * Live messages of a shard held while that shard's offline messages replay, in arrival (= sequence) order, up to
 * a bound. Past the bound the held messages are let go and the shard is marked: the replay then keeps reading the
 * stream, which holds them too, until it reaches the end with nothing let go.
 */
export class ReplayBuffer<S> {
  // created on first use: a session holds live messages only while it replays
  private held: Map<string, [S, DeliveredMessage][]> | undefined;
  private overflowed: Set<string> | undefined;

  constructor(private readonly max: number) {}

  hold(shardId: string, subscriber: S, message: DeliveredMessage): void {
    if (this.overflowed?.has(shardId) === true) return;
    this.held ??= new Map();
    let list = this.held.get(shardId);
    if (list === undefined) {
      list = [];
      this.held.set(shardId, list);
    }
    if (list.length >= this.max) {
      this.held.delete(shardId);
      (this.overflowed ??= new Set()).add(shardId);
      return;
    }
    list.push([subscriber, message]);
  }

  /** True (once) when messages were let go since the last call: the replay must read on. */
  takeOverflow(shardId: string): boolean {
    return this.overflowed?.delete(shardId) === true;
  }

  /** The held messages of a shard, removed from the buffer. */
  release(shardId: string): [S, DeliveredMessage][] {
    const list = this.held?.get(shardId) ?? [];
    this.held?.delete(shardId);
    return list;
  }
}

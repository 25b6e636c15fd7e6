import type { DeliveredMessage } from './message.js';

/**
 * Live messages held, per key, while what came before them is read from the stream (a resumed session's shard, an
 * interest after a shard reconnect), in arrival (= sequence) order, up to a bound. Past the bound the held messages
 * are let go and the key is marked: the reader then keeps reading the stream, which holds them too, until it
 * reaches the end with nothing let go. `S` is whom each message is for.
 */
export class ReplayBuffer<S> {
  // created on first use: live messages are held only while a replay runs
  private held: Map<string, [S, DeliveredMessage][]> | undefined;
  private overflowed: Set<string> | undefined;

  constructor(private readonly max: number) {}

  hold(key: string, subscriber: S, message: DeliveredMessage): void {
    if (this.overflowed?.has(key) === true) return;
    this.held ??= new Map();
    let list = this.held.get(key);
    if (list === undefined) {
      list = [];
      this.held.set(key, list);
    }
    if (list.length >= this.max) {
      this.held.delete(key);
      (this.overflowed ??= new Set()).add(key);
      return;
    }
    list.push([subscriber, message]);
  }

  /** True (once) when messages were let go since the last call: the replay must read on. */
  takeOverflow(key: string): boolean {
    return this.overflowed?.delete(key) === true;
  }

  /**
   * Empties the key and returns what it held after `sequence` (the replay read everything up to it), in order;
   * the held messages at or before it were replayed already.
   */
  release(key: string, sequence: number): [S, DeliveredMessage][] {
    const list = this.held?.get(key) ?? [];
    this.held?.delete(key);
    return list.filter(([, message]) => (message.sequence ?? 0) > sequence);
  }
}

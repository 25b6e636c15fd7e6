/**
 * Sends replies in the order their requests arrived even when the work behind them finishes out of order:
 * PUBACKs must follow the order of the QoS 1 PUBLISHes [MQTT-4.6.0-2], while their JetStream
 * acknowledgements come back from several shards at different times.
 */
export class OrderedReplies<T> {
  /** The replies from `head` on, in request order; undefined while one is not ready (no object per reply). */
  private readonly pending: (T | undefined)[] = [];
  /** The request number of `pending[0]`. */
  private head = 0;

  /** @param emit called with each reply, in arrival order. */
  constructor(private readonly emit: (reply: T) => void) {}

  /** Reserves a place for a reply; call the returned function once it is ready. */
  reserve(): (reply: T) => void {
    const request = this.head + this.pending.length;
    this.pending.push(undefined);
    return (reply: T) => {
      const index = request - this.head;
      if (index < 0) return; // answered already
      this.pending[index] = reply;
      this.flush();
    };
  }

  /** Replies waiting for an earlier one. */
  get size(): number {
    return this.pending.length;
  }

  private flush(): void {
    while (this.pending.length > 0 && this.pending[0] !== undefined) {
      const reply = this.pending.shift();
      this.head += 1;
      if (reply !== undefined) this.emit(reply);
    }
  }
}

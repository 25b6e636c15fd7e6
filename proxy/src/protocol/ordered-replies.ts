/**
 * Sends replies in the order their requests arrived even when the work behind them finishes out of order:
 * PUBACKs must follow the order of the QoS 1 PUBLISHes [MQTT-4.6.0-2], while their JetStream
 * acknowledgements come back from several shards at different times.
 */
export class OrderedReplies<T> {
  private readonly pending: { value: T | undefined; done: boolean }[] = [];

  /** @param emit called with each reply, in arrival order. */
  constructor(private readonly emit: (reply: T) => void) {}

  /** Reserves a place for a reply; call the returned function once it is ready. */
  reserve(): (reply: T) => void {
    const slot: { value: T | undefined; done: boolean } = { value: undefined, done: false };
    this.pending.push(slot);
    return (reply: T) => {
      slot.value = reply;
      slot.done = true;
      this.flush();
    };
  }

  /** Replies waiting for an earlier one. */
  get size(): number {
    return this.pending.length;
  }

  private flush(): void {
    while (this.pending.length > 0 && this.pending[0]?.done === true) {
      const slot = this.pending.shift();
      if (slot?.value !== undefined) this.emit(slot.value);
    }
  }
}

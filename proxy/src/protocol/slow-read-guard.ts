// Slow-read (slowloris) protection: a peer that stops reading leaves the socket above its write high-water mark.
// Armed when a write reports backpressure, disarmed by 'drain'; if the socket stays blocked for `timeoutMs` the
// connection is closed (and counted by the caller). One timer per blocked connection, none for the others.
export class SlowReadGuard {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: () => void,
  ) {}

  /** A write went above the high-water mark. */
  blocked(): void {
    if (this.timer !== undefined || this.timeoutMs <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onTimeout();
    }, this.timeoutMs);
    this.timer.unref();
  }

  /** The socket drained. */
  drained(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.drained();
  }
}

/** Something with one deadline at a time in a DeadlineQueue (a client connection: its CONNECT or keepalive bound). */
export interface DeadlineHolder {
  /** The time it is due (`performance.now()` milliseconds); set by the queue. */
  deadlineAtMs: number;
  /** Its place in the queue (-1: not queued); set by the queue. */
  deadlineSlot: number;
  /** The deadline passed; the holder may schedule itself again. */
  deadlinePassed(): void;
}

/**
 * The CONNECT and keepalive deadlines of every connection of a proxy, in one binary min-heap with ONE timer, armed
 * for the earliest deadline: a connection holds a heap slot and two numbers instead of a Timeout and a closure.
 * Deadlines fire when they are due (not rounded), in deadline order; cancelling is O(log n). Delays run on the
 * timers' own monotonic time, as a setTimeout per connection did.
 */
export class DeadlineQueue {
  private readonly heap: DeadlineHolder[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for. */
  private timerAtMs = Number.POSITIVE_INFINITY;

  /** Sets (or moves) the holder's deadline to `delayMs` from now. */
  schedule(holder: DeadlineHolder, delayMs: number): void {
    if (holder.deadlineSlot >= 0) this.removeAt(holder.deadlineSlot);
    holder.deadlineAtMs = performance.now() + delayMs;
    holder.deadlineSlot = this.heap.length;
    this.heap.push(holder);
    this.up(holder.deadlineSlot);
    this.arm();
  }

  /** Drops the holder's deadline, if it has one. */
  cancel(holder: DeadlineHolder): void {
    if (holder.deadlineSlot < 0) return;
    this.removeAt(holder.deadlineSlot);
    this.arm();
  }

  get size(): number {
    return this.heap.length;
  }

  /** Drops every deadline and the timer (at shutdown, once the connections were closed). */
  close(): void {
    for (const holder of this.heap) holder.deadlineSlot = -1;
    this.heap.length = 0;
    this.arm();
  }

  /** Takes every holder that is due off the queue, then tells each (one may schedule itself again). */
  private fire(): void {
    this.timer = undefined;
    this.timerAtMs = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const due: DeadlineHolder[] = [];
    for (let first = this.heap[0]; first !== undefined && first.deadlineAtMs <= now; first = this.heap[0]) {
      this.removeAt(0);
      due.push(first);
    }
    for (const holder of due) holder.deadlinePassed();
    this.arm();
  }

  /** Keeps the one timer armed for the earliest deadline (none when the queue is empty). */
  private arm(): void {
    const first = this.heap[0];
    const atMs = first?.deadlineAtMs ?? Number.POSITIVE_INFINITY;
    if (atMs === this.timerAtMs) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = atMs;
    if (first === undefined) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(atMs - performance.now())));
    this.timer.unref();
  }

  private removeAt(slot: number): void {
    const removed = this.heap[slot];
    const last = this.heap.pop();
    if (removed !== undefined) removed.deadlineSlot = -1;
    if (last === undefined || last === removed) return;
    this.heap[slot] = last;
    last.deadlineSlot = slot;
    this.up(slot);
    this.down(last.deadlineSlot);
  }

  private up(slot: number): void {
    const holder = this.heap[slot];
    if (holder === undefined) return;
    let at = slot;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = this.heap[parentAt];
      if (parent === undefined || parent.deadlineAtMs <= holder.deadlineAtMs) break;
      this.place(parent, at);
      at = parentAt;
    }
    this.place(holder, at);
  }

  private down(slot: number): void {
    const holder = this.heap[slot];
    if (holder === undefined) return;
    let at = slot;
    for (;;) {
      const leftAt = 2 * at + 1;
      const left = this.heap[leftAt];
      if (left === undefined) break;
      const right = this.heap[leftAt + 1];
      const rightFirst = right !== undefined && right.deadlineAtMs < left.deadlineAtMs;
      const childAt = rightFirst ? leftAt + 1 : leftAt;
      const child = rightFirst ? right : left;
      if (child.deadlineAtMs >= holder.deadlineAtMs) break;
      this.place(child, at);
      at = childAt;
    }
    this.place(holder, at);
  }

  private place(holder: DeadlineHolder, slot: number): void {
    this.heap[slot] = holder;
    holder.deadlineSlot = slot;
  }
}

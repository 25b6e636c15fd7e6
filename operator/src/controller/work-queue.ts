// A keyed work queue (client-go's workqueue): a key waits at most once, is handed to one worker at a
// time, and a key added while it is being worked on runs again afterwards. Failures come back with
// per-key exponential backoff. Timers are injected so tests control time.

/** Schedules a callback; returns a function that cancels it. */
export type Schedule = (callback: () => void, delayMs: number) => () => void;

/** The process timers (unref'd: a pending retry does not keep the process alive). */
export const realSchedule: Schedule = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

export interface WorkQueueOptions {
  /** First retry delay. @default 500 */
  readonly baseDelayMs?: number;
  /** Longest retry delay. @default 300_000 */
  readonly maxDelayMs?: number;
  readonly schedule?: Schedule;
  /** Called whenever the number of waiting keys changes. */
  readonly onDepth?: (depth: number) => void;
}

export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  /** Keys added while active: they are queued again when done. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, () => void>();
  private readonly takers: ((key: string | undefined) => void)[] = [];
  private closed = false;
  private readonly schedule: Schedule;

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.schedule = options.schedule ?? realSchedule;
  }

  /** Queues `key` now (no-op when it already waits; remembered when it is being worked on). */
  add(key: string): void {
    if (this.closed) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const taker = this.takers.shift();
    if (taker !== undefined) {
      this.active.add(key);
      taker(key);
      return;
    }
    this.queued.add(key);
    this.waiting.push(key);
    this.options.onDepth?.(this.waiting.length);
  }

  /** Queues `key` after `delayMs` (an earlier delayed add of the same key is replaced). */
  addAfter(key: string, delayMs: number): void {
    if (this.closed) return;
    this.delayed.get(key)?.();
    const cancel = this.schedule(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, cancel);
  }

  /** Queues `key` again after its backoff delay, which doubles with each consecutive failure. */
  retry(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const delay = Math.min((this.options.baseDelayMs ?? 500) * 2 ** (failures - 1), this.options.maxDelayMs ?? 300_000);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the backoff of `key` (after a successful pass). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key to work on (exclusive until `done(key)`), or undefined once the queue is shut down. */
  take(): Promise<string | undefined> {
    const key = this.waiting.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.active.add(key);
      this.options.onDepth?.(this.waiting.length);
      return Promise.resolve(key);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  /** Ends work on `key`; if it was added meanwhile it is queued again. */
  done(key: string): void {
    this.active.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Keys waiting (not counting active or delayed ones). */
  get depth(): number {
    return this.waiting.length;
  }

  /** Stops handing out keys: waiting takers get undefined, delayed adds are cancelled. */
  shutdown(): void {
    this.closed = true;
    for (const cancel of this.delayed.values()) cancel();
    this.delayed.clear();
    for (const taker of this.takers.splice(0)) taker(undefined);
  }
}

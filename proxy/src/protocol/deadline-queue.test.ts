import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { DeadlineQueue, type DeadlineHolder } from './deadline-queue.js';

/** A holder that records when it was told, and may ask again after `again` ms (once). */
class Holder implements DeadlineHolder {
  deadlineAtMs = 0;
  deadlineSlot = -1;
  readonly passedAt: number[] = [];

  constructor(
    readonly name: string,
    private readonly log: string[],
    private readonly queue?: DeadlineQueue,
    private again?: number,
  ) {}

  deadlinePassed(): void {
    this.log.push(this.name);
    this.passedAt.push(Date.now());
    if (this.again !== undefined && this.queue !== undefined) {
      const delay = this.again;
      this.again = undefined;
      this.queue.schedule(this, delay);
    }
  }
}

describe('DeadlineQueue', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('tells each holder when its own deadline passes, in deadline order, not before', () => {
    const queue = new DeadlineQueue();
    const log: string[] = [];
    const delays = [500, 100, 300, 100, 900, 200, 700, 50];
    const holders = delays.map((ms, i) => new Holder(`h${String(i)}@${String(ms)}`, log, queue));
    holders.forEach((h, i) => queue.schedule(h, delays[i] ?? 0));
    jest.advanceTimersByTime(49);
    expect(log).toEqual([]);
    jest.advanceTimersByTime(1_000);
    expect(log).toEqual(['h7@50', 'h1@100', 'h3@100', 'h5@200', 'h2@300', 'h0@500', 'h6@700', 'h4@900']);
    holders.forEach((h, i) => expect(h.passedAt).toEqual([1_000_000 + (delays[i] ?? 0)]));
    expect(queue.size).toBe(0);
  });

  it('forgets a cancelled deadline and moves a rescheduled one', () => {
    const queue = new DeadlineQueue();
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => new Holder(name, log, queue));
    if (a === undefined || b === undefined || c === undefined) throw new Error('holders');
    queue.schedule(a, 100);
    queue.schedule(b, 200);
    queue.schedule(c, 300);
    queue.cancel(a);
    queue.cancel(a); // twice is harmless
    queue.schedule(c, 50); // earlier than every other
    expect(queue.size).toBe(2);
    jest.advanceTimersByTime(1_000);
    expect(log).toEqual(['c', 'b']);
    expect(c.passedAt).toEqual([1_000_050]);
    expect(a.deadlineSlot).toBe(-1);
  });

  it('lets a holder schedule itself again from deadlinePassed (a keepalive that saw traffic)', () => {
    const queue = new DeadlineQueue();
    const log: string[] = [];
    const keepalive = new Holder('k', log, queue, 400);
    queue.schedule(keepalive, 600);
    jest.advanceTimersByTime(600);
    expect(log).toEqual(['k']);
    jest.advanceTimersByTime(399);
    expect(log).toEqual(['k']);
    jest.advanceTimersByTime(1);
    expect(keepalive.passedAt).toEqual([1_000_600, 1_001_000]);
  });

  it('keeps one timer for any number of deadlines, and none once the queue is empty', () => {
    const queue = new DeadlineQueue();
    const log: string[] = [];
    const holders = Array.from({ length: 1_000 }, (_, i) => new Holder(String(i), log, queue));
    holders.forEach((h, i) => queue.schedule(h, 1_000 + ((i * 7919) % 1_000)));
    expect(jest.getTimerCount()).toBe(1);
    for (const h of holders.slice(0, 500)) queue.cancel(h);
    jest.advanceTimersByTime(2_000);
    expect(log).toHaveLength(500);
    expect(new Set(log)).toEqual(new Set(holders.slice(500).map((h) => h.name)));
    expect(jest.getTimerCount()).toBe(0);
  });

  it('drops every deadline and its timer on close', () => {
    const queue = new DeadlineQueue();
    const log: string[] = [];
    const holders = ['a', 'b', 'c'].map((name) => new Holder(name, log, queue));
    holders.forEach((h, i) => queue.schedule(h, 100 * (i + 1)));
    queue.close();
    expect(jest.getTimerCount()).toBe(0);
    expect(queue.size).toBe(0);
    jest.advanceTimersByTime(1_000);
    expect(log).toEqual([]);
    expect(holders.map((h) => h.deadlineSlot)).toEqual([-1, -1, -1]);
  });
});

import { describe, expect, it } from '@jest/globals';
import { WorkQueue, type Schedule } from './work-queue.js';

/** Timers under test control: `advance(ms)` fires what is due. */
function fakeTimers(): { schedule: Schedule; advance: (ms: number) => void; pending: () => number[] } {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const schedule: Schedule = (fn, delayMs) => {
    const id = ++ids;
    timers.push({ at: now + delayMs, fn, id });
    return () => {
      timers = timers.filter((t) => t.id !== id);
    };
  };
  const advance = (ms: number): void => {
    now += ms;
    const due = timers.filter((t) => t.at <= now);
    timers = timers.filter((t) => t.at > now);
    for (const t of due) t.fn();
  };
  return { schedule, advance, pending: () => timers.map((t) => t.at - now) };
}

describe('WorkQueue', () => {
  it('hands out a key once however often it was added', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.depth).toBe(2);
    await expect(queue.take()).resolves.toBe('a');
    await expect(queue.take()).resolves.toBe('b');
  });

  it('never hands a key to two workers at once, and runs it again if it was added meanwhile', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const key = await queue.take();
    queue.add('a');
    expect(queue.depth).toBe(0);
    queue.done(key!);
    expect(queue.depth).toBe(1);
    await expect(queue.take()).resolves.toBe('a');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue();
    const taken = queue.take();
    queue.add('a');
    await expect(taken).resolves.toBe('a');
  });

  it('backs off exponentially per key up to the maximum, and forgets after a success', () => {
    const timers = fakeTimers();
    const queue = new WorkQueue({ schedule: timers.schedule, baseDelayMs: 100, maxDelayMs: 500 });
    expect([1, 2, 3, 4, 5].map(() => queue.retry('a'))).toEqual([100, 200, 400, 500, 500]);
    queue.forget('a');
    expect(queue.retry('a')).toBe(100);
    expect(queue.retry('b')).toBe(100);
  });

  it('queues a delayed key when its time comes, replacing an earlier delay', () => {
    const timers = fakeTimers();
    const queue = new WorkQueue({ schedule: timers.schedule });
    queue.addAfter('a', 1000);
    queue.addAfter('a', 300);
    expect(timers.pending()).toEqual([300]);
    timers.advance(299);
    expect(queue.depth).toBe(0);
    timers.advance(1);
    expect(queue.depth).toBe(1);
  });

  it('releases waiting workers and drops delayed keys on shutdown', async () => {
    const timers = fakeTimers();
    const queue = new WorkQueue({ schedule: timers.schedule });
    const taken = queue.take();
    queue.addAfter('a', 10);
    queue.shutdown();
    await expect(taken).resolves.toBeUndefined();
    expect(timers.pending()).toEqual([]);
    queue.add('b');
    await expect(queue.take()).resolves.toBeUndefined();
  });
});

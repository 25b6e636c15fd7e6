import { describe, expect, it } from '@jest/globals';
import type { DeliveredMessage } from '../message.js';
import { GapRepair, type GapRepairDeps, type RepairTarget } from './gap-repair.js';

const message = (sequence: number, topic = 't'): DeliveredMessage => ({ topic, payload: new Uint8Array(), qos: 1, retain: false, shardId: 's', sequence });

/** A stream of stored messages `t` 1..last, read as the NATS backend reads it (with batches of `batch`). */
function fakeStream(last: () => number, batch = 3) {
  const reads: number[] = [];
  let failing = false;
  const read: GapRepairDeps['read'] = (_shardId, _filter, after) => {
    reads.push(after);
    if (failing) return Promise.reject(new Error('shard down'));
    const end = Math.min(last(), after + batch);
    const messages = Array.from({ length: Math.max(0, end - after) }, (_, i) => message(after + i + 1));
    return Promise.resolve({ messages, readThrough: end, end: end === last() });
  };
  return { read, reads, fail: (on: boolean) => (failing = on) };
}

function setup(options: { delivered: number | undefined; last: () => number; holdMax?: number }) {
  const stream = fakeStream(options.last);
  const frozen: (number | 'thawed')[] = [];
  const repair = new GapRepair({
    read: stream.read,
    deliveredThrough: () => options.delivered,
    freeze: (_shard, at) => frozen.push(at),
    thaw: () => frozen.push('thawed'),
    log: { warn: () => undefined },
    retryMs: 5,
    holdMax: options.holdMax ?? 100,
  });
  const got: number[] = [];
  const target: RepairTarget = { key: { filter: 't' }, deliver: (m) => got.push(m.sequence ?? 0) };
  /** A live message as the interest's subscription would hand it over. */
  const live = (m: DeliveredMessage): void => {
    if (!repair.hold(target, m)) target.deliver(m);
  };
  return { repair, target, got, live, frozen, stream };
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GapRepair', () => {
  it('fills in what was stored while the shard was away, then the live messages held meanwhile, in order, once', async () => {
    let last = 10;
    const { repair, target, got, live, frozen } = setup({ delivered: 4, last: () => last });
    repair.interrupted('s', [target]);
    expect(frozen).toEqual([4]);
    live(message(9)); // arrived live after the reconnect, before the repair read them
    live(message(10));
    last = 12;
    live(message(11));
    live(message(12));
    repair.resumed('s');
    await settled();
    await settled();
    expect(got).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(frozen).toEqual([4, 'thawed']);
    expect(repair.active).toBe(0);
    live(message(13));
    expect(got.at(-1)).toBe(13);
  });

  it('reads on from the stream when more arrived live than it holds', async () => {
    let last = 6;
    const { repair, target, got, live } = setup({ delivered: 0, last: () => last, holdMax: 2 });
    repair.interrupted('s', [target]);
    last = 9;
    for (const seq of [7, 8, 9]) live(message(seq)); // the third one overflows: all let go
    repair.resumed('s');
    for (let i = 0; i < 6; i++) await settled();
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('waits for the shard when the read fails, and repairs once it can read', async () => {
    const { repair, target, got, stream } = setup({ delivered: 2, last: () => 4 });
    repair.interrupted('s', [target]);
    stream.fail(true);
    repair.resumed('s');
    await settled();
    expect(got).toEqual([]);
    stream.fail(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(got).toEqual([3, 4]);
  });

  it('does nothing for a shard nothing was delivered from, and lets live messages through', () => {
    const { repair, target, got, live, frozen } = setup({ delivered: undefined, last: () => 3 });
    repair.interrupted('s', [target]);
    live(message(3));
    expect(got).toEqual([3]);
    expect(frozen).toEqual([]);
  });

  it('an interest removed during the repair is skipped', async () => {
    const { repair, target, got } = setup({ delivered: 1, last: () => 3 });
    repair.interrupted('s', [target]);
    repair.forget(target);
    repair.resumed('s');
    await settled();
    expect(got).toEqual([]);
    expect(repair.active).toBe(0);
  });
});

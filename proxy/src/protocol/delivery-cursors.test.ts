import { describe, expect, it } from '@jest/globals';
import { DeliveryCursors } from './delivery-cursors.js';

const none = (): undefined => undefined;

describe('DeliveryCursors', () => {
  it('a live shard with nothing pending follows what the proxy delivered', () => {
    const cursors = new DeliveryCursors();
    expect(cursors.startLive('s1', 10)).toBe(true);
    expect(cursors.snapshot(none)).toEqual({ s1: 10 });
    expect(cursors.snapshot(() => 25)).toEqual({ s1: 25 });
  });

  it('stays before the first unsettled message, whatever was settled after it', () => {
    const cursors = new DeliveryCursors();
    cursors.startLive('s1', 10);
    for (const seq of [11, 12, 13]) cursors.dispatched('s1', seq);
    cursors.settled('s1', 12);
    cursors.settled('s1', 13);
    expect(cursors.snapshot(() => 13)).toEqual({ s1: 10 });
    cursors.settled('s1', 11);
    expect(cursors.snapshot(() => 13)).toEqual({ s1: 13 });
  });

  it('a message delivered twice (two matching subscriptions) is owed until both copies settle', () => {
    const cursors = new DeliveryCursors();
    cursors.startLive('s1', 0);
    cursors.dispatched('s1', 5);
    cursors.dispatched('s1', 5);
    cursors.settled('s1', 5);
    expect(cursors.snapshot(() => 5)).toEqual({ s1: 4 });
    cursors.settled('s1', 5);
    expect(cursors.snapshot(() => 5)).toEqual({ s1: 5 });
  });

  it('while replaying, the cursor is the replay position, not what the proxy delivered live', () => {
    const cursors = new DeliveryCursors({ s1: 100 });
    cursors.beginReplay('s1', 100);
    expect(cursors.snapshot(() => 500)).toEqual({ s1: 100 });
    cursors.replayedThrough('s1', 200);
    expect(cursors.snapshot(() => 500)).toEqual({ s1: 200 });
    cursors.endReplay('s1');
    expect(cursors.snapshot(() => 500)).toEqual({ s1: 500 });
  });

  it('a stored cursor that is not live is kept as it is', () => {
    const cursors = new DeliveryCursors({ old: 7 });
    expect(cursors.snapshot(() => 99)).toEqual({ old: 7 });
    expect(cursors.startLive('old', 50)).toBe(false);
    expect(cursors.knownShards()).toEqual(['old']);
  });

  it('remembers restored in-flight messages so a replay skips them', () => {
    const cursors = new DeliveryCursors();
    cursors.restoredInflight('s1', 3);
    expect(cursors.isInflight('s1', 3)).toBe(true);
    expect(cursors.isInflight('s2', 3)).toBe(false);
  });

  it('keeps its pending list short over a long run', () => {
    const cursors = new DeliveryCursors();
    cursors.startLive('s1', 0);
    for (let seq = 1; seq <= 100_000; seq++) {
      cursors.dispatched('s1', seq);
      cursors.settled('s1', seq);
    }
    expect(cursors.snapshot(() => 100_000)).toEqual({ s1: 100_000 });
  });
});

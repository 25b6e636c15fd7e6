import { describe, expect, it } from '@jest/globals';
import { ReplayBuffer } from './replay-buffer.js';

describe('ReplayBuffer', () => {
  const message = (sequence: number) => ({ topic: 't', payload: new Uint8Array(), qos: 1 as const, retain: false, shardId: 's', sequence });

  it('releases what it held in order, once', () => {
    const buffer = new ReplayBuffer<string>(10);
    buffer.hold('s', 'a', message(1));
    buffer.hold('s', 'b', message(2));
    expect(buffer.release('s', 0).map(([sub, m]) => `${sub}${m.sequence}`)).toEqual(['a1', 'b2']);
    expect(buffer.release('s', 0)).toEqual([]);
  });

  it('releases only what came after the sequence the replay read through', () => {
    const buffer = new ReplayBuffer<string>(10);
    for (let seq = 1; seq <= 4; seq++) buffer.hold('s', 'a', message(seq));
    expect(buffer.release('s', 2).map(([, m]) => m.sequence)).toEqual([3, 4]);
  });

  it('past its bound lets everything go and says so once, so the replay reads on', () => {
    const buffer = new ReplayBuffer<string>(2);
    for (let seq = 1; seq <= 3; seq++) buffer.hold('s', 'a', message(seq));
    expect(buffer.release('s', 0)).toEqual([]);
    expect(buffer.takeOverflow('s')).toBe(true);
    expect(buffer.takeOverflow('s')).toBe(false);
    buffer.hold('s', 'a', message(4));
    expect(buffer.release('s', 0)).toHaveLength(1);
  });
});

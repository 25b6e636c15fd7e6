import { describe, expect, it } from '@jest/globals';
import { worthWriting } from './pod-deletion-cost.js';

describe('worthWriting', () => {
  it('writes the first value, any change of small counts, and changes of 10% or more of large ones', () => {
    expect(worthWriting(undefined, 0)).toBe(true);
    expect(worthWriting(5, 5)).toBe(false);
    expect(worthWriting(5, 4)).toBe(true);
    expect(worthWriting(0, 1)).toBe(true);
    expect(worthWriting(50_000, 50_900)).toBe(false);
    expect(worthWriting(50_000, 44_000)).toBe(true);
    expect(worthWriting(1_000, 0)).toBe(true);
  });
});

/** A small seeded generator (mulberry32) for differential tests: the same seed gives the same inputs. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Random bytes; past the first 64 they repeat (large payloads, made quickly). */
  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    const head = Math.min(length, 64);
    for (let i = 0; i < head; i++) out[i] = this.int(0, 255);
    if (length > head) out.fill(out.subarray(0, head), head);
    return out;
  }

  /** A string of `length` characters drawn from `alphabet` (code points, so multi-byte ones stay whole). */
  text(length: number, alphabet: readonly string[]): string {
    let out = '';
    for (let i = 0; i < length; i++) out += this.pick(alphabet);
    return out;
  }
}

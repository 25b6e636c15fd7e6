// Latency samples and their percentiles, for the benchmarks.

/** Rounds to `digits` decimals. */
export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
/** The sum of the values. */
export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  samples: number;
}

/** Latencies in ms, kept whole (10 s at 200k msg/s is 16 MB) and sorted once for the percentiles. */
export class Samples {
  private data = new Float64Array(1 << 16);
  private count = 0;

  add(value: number): void {
    if (this.count === this.data.length) {
      if (this.count >= 1 << 26) return; // 64M samples are plenty for the percentiles printed here
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.count++] = value;
  }

  percentiles(): Percentiles | undefined {
    const n = this.count;
    if (n === 0) return undefined;
    const sorted = this.data.subarray(0, n).sort();
    const at = (q: number): number => round(sorted[Math.min(n - 1, Math.floor(q * n))] ?? Number.NaN, 3);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted[n - 1] ?? Number.NaN, 3), samples: n };
  }
}

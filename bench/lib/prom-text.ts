// Prometheus text format: parsing, differences between two scrapes, histogram quantiles.
import { round } from './samples.js';

export type Series = Map<string, number>;

/** Prometheus text → `name{labels}` → value. */
export function parseMetrics(text: string): Series {
  const series: Series = new Map();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) series.set(match[1], Number(match[2]));
  }
  return series;
}

export function diffSeries(before: Series | undefined, after: Series, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (before === undefined || before.size === 0) return out; // a failed scrape: no delta rather than a wrong one
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (key.startsWith(prefix) && delta !== 0) out[key] = delta;
  }
  return out;
}

export interface HistogramSummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** [upper bound in seconds, cumulative count], summed over shards and proxies; bounds without change omitted. */
  buckets: [string, number][];
}

/** The quantile of cumulative buckets by linear interpolation inside a bucket (like histogram_quantile). */
export function bucketQuantile(buckets: Map<number, number>, count: number, q: number): number {
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const bound of [...buckets.keys()].sort((a, b) => a - b)) {
    const cumulative = buckets.get(bound) ?? 0;
    if (cumulative >= rank) {
      return Number.isFinite(bound) ? lower + ((bound - lower) * (rank - below)) / Math.max(1, cumulative - below) : lower;
    }
    lower = bound;
    below = cumulative;
  }
  return lower;
}

/** Sums the deltas of a histogram over its labels (shards) and proxies. */
export function histogramDelta(deltas: readonly Record<string, number>[], name: string): HistogramSummary | undefined {
  const buckets = new Map<number, number>();
  let count = 0;
  let total = 0;
  for (const [key, value] of deltas.flatMap((d) => Object.entries(d))) {
    if (key.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(key)?.[1] ?? '+Inf';
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    } else if (key.startsWith(`${name}_count`)) count += value;
    else if (key.startsWith(`${name}_sum`)) total += value;
  }
  if (count === 0) return undefined;
  const ms = (q: number): number => round(bucketQuantile(buckets, count, q) * 1000, 3);
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  return {
    count,
    meanMs: round((total / count) * 1000, 3),
    p50Ms: ms(0.5),
    p90Ms: ms(0.9),
    p99Ms: ms(0.99),
    buckets: bounds.map((b) => [Number.isFinite(b) ? String(b) : '+Inf', buckets.get(b) ?? 0]),
  };
}

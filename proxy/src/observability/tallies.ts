// Metrics counted on the hot path (every packet, every message) in plain numbers, and handed to prom-client only
// when the registry is read. A prom-client `inc({ label })` validates and hashes its label object on every call,
// and a `Histogram.observe` does that and more: at tens of thousands of messages per second per proxy that was
// 2–3 % of each proxy's CPU (docs/performance.md). What a scrape sees is exact: the counts move into prom-client
// in the metric's `collect()`, which the registry calls before it reads the metric.
import { Counter, type Registry } from 'prom-client';

/** A prom-client counter with at most one label, counted in plain numbers between scrapes. */
export class CounterTally<L extends string = string> {
  private readonly pending = new Map<string, number>();
  private unlabelled = 0;
  readonly counter: Counter<L>;

  constructor(config: { name: string; help: string; labelName?: L; registry: Registry }) {
    const label = config.labelName;
    const flush = (counter: Counter<L>): void => {
      if (this.unlabelled > 0) counter.inc(this.unlabelled);
      this.unlabelled = 0;
      if (label === undefined) return;
      for (const [value, count] of this.pending) {
        if (count > 0) counter.inc({ [label]: value } as Partial<Record<L, string>>, count);
      }
      this.pending.clear();
    };
    this.counter = new Counter<L>({
      name: config.name,
      help: config.help,
      labelNames: label === undefined ? [] : [label],
      registers: [config.registry],
      collect() {
        flush(this);
      },
    });
  }

  /** Adds `count` (default 1) under the label value `value`. */
  add(value: string, count = 1): void {
    this.pending.set(value, (this.pending.get(value) ?? 0) + count);
  }

  /** Adds to the counter without labels. */
  inc(count = 1): void {
    this.unlabelled += count;
  }
}

/** Cumulative bucket counts of one label value. */
interface Series {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * A histogram with one label, in Prometheus text exactly as prom-client's Histogram prints it (`_bucket` with `le`
 * cumulative, `+Inf`, `_sum`, `_count`; the unit tests compare the two), observed with a bucket scan and three
 * additions. Registered in the registry as a metric of its own.
 */
export class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    // The registry reads any object with a name, get()/getForPromString() and reset(); prom-client's types only
    // name its own classes.
    registry.registerMetric(this as unknown as Counter);
  }

  observe(labelValue: string, value: number): void {
    if (!Number.isFinite(value)) return;
    let series = this.series.get(labelValue);
    if (series === undefined) {
      series = { counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
      this.series.set(labelValue, series);
    }
    const buckets = this.buckets;
    for (let i = 0; i < buckets.length; i++) {
      if (value <= (buckets[i] ?? Number.POSITIVE_INFINITY)) {
        series.counts[i] = (series.counts[i] ?? 0) + 1;
        break;
      }
    }
    series.sum += value;
    series.count += 1;
  }

  reset(): void {
    this.series.clear();
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() });
  }

  getForPromString(): ReturnType<BucketHistogram['get']> {
    return this.get();
  }

  private values(): ExportedValue[] {
    const values: ExportedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const [labelValue, series] of this.series) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += series.counts[i] ?? 0;
        values.push({ value: cumulative, labels: { le, [this.labelName]: labelValue }, metricName: bucketName });
      });
      values.push({ value: series.count, labels: { le: '+Inf', [this.labelName]: labelValue }, metricName: bucketName });
      values.push({ value: series.sum, labels: { [this.labelName]: labelValue }, metricName: `${this.name}_sum` });
      values.push({ value: series.count, labels: { [this.labelName]: labelValue }, metricName: `${this.name}_count` });
    }
    return values;
  }
}

import { describe, expect, it } from '@jest/globals';
import { Counter, Histogram, Registry } from 'prom-client';
import { BucketHistogram, CounterTally } from './tallies.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

describe('CounterTally', () => {
  it('prints what a prom-client counter incremented call by call prints', async () => {
    const tallied = new Registry();
    const direct = new Registry();
    const tally = new CounterTally({ name: 'x_total', help: 'h', labelName: 'qos', registry: tallied });
    const counter = new Counter({ name: 'x_total', help: 'h', labelNames: ['qos'], registers: [direct] });
    for (const qos of ['0', '1', '0', '2', '0']) {
      tally.add(qos);
      counter.inc({ qos });
    }
    tally.add('1', 5);
    counter.inc({ qos: '1' }, 5);
    expect(await tallied.metrics()).toBe(await direct.metrics());
    expect(await tallied.metrics()).toContain('x_total{qos="1"} 6');
  });

  it('keeps counting across scrapes and counts without labels', async () => {
    const registry = new Registry();
    const bytes = new CounterTally({ name: 'bytes_total', help: 'h', registry });
    bytes.inc(100);
    expect(await registry.metrics()).toContain('bytes_total 100');
    bytes.inc(20);
    bytes.inc(3);
    expect(await registry.metrics()).toContain('bytes_total 123');
    expect((await registry.getMetricsAsJSON())[0]?.values[0]?.value).toBe(123);
  });
});

describe('BucketHistogram', () => {
  it('prints exactly what prom-client Histogram prints for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const bucketed = new BucketHistogram('rt_seconds', 'round trip', 'shard', BUCKETS, ours);
    const histogram = new Histogram({ name: 'rt_seconds', help: 'round trip', labelNames: ['shard'], buckets: BUCKETS, registers: [theirs] });
    const samples: Array<[string, number]> = [
      ['a', 0.0005], ['a', 0.001], ['a', 0.05], ['b', 0.2], ['a', 3], ['b', 0.00001], ['b', 1],
    ];
    for (const [shard, value] of samples) {
      bucketed.observe(shard, value);
      histogram.observe({ shard }, value);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('rt_seconds_bucket{le="0.001",shard="a"} 2');
    expect(text).toContain('rt_seconds_bucket{le="+Inf",shard="a"} 4');
    expect(text).toContain('rt_seconds_count{shard="b"} 3');
  });

  it('ignores values that are not finite and forgets everything on reset', async () => {
    const registry = new Registry();
    const bucketed = new BucketHistogram('rt_seconds', 'h', 'shard', BUCKETS, registry);
    bucketed.observe('a', Number.NaN);
    bucketed.observe('a', Number.POSITIVE_INFINITY);
    expect(await registry.metrics()).not.toContain('rt_seconds_count');
    bucketed.observe('a', 0.5);
    expect(await registry.metrics()).toContain('rt_seconds_count{shard="a"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('rt_seconds_count');
  });
});

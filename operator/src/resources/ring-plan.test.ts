import { describe, expect, it } from '@jest/globals';
import { parseRingDocument, type RingDocument } from '@shoal/proxy';
import { resolvedCluster } from '../test-support/clusters.js';
import { buildRingConfigMap, readRingDocument, RingUnreadableError } from './ring-configmap.js';
import { planRing, type RingPlan } from './ring-plan.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const url = (i: number): string => `nats://demo-shard-${i}-0.demo-shard-${i}.mqtt.svc:4222`;
const shards = (n: number): RingDocument['shards'] => Array.from({ length: n }, (_, i) => ({ id: `shard-${i}`, urls: [url(i)], weight: 1 }));
const ringOf = (n: number, extra: object = {}): RingDocument => parseRingDocument({ version: 3, vnodes: 4096, shardKeyLevels: 0, shards: shards(n), ...extra });
const allReady = (): boolean => true;

function plan(count: number, current: RingDocument | undefined, options: { now?: number; ready?: (id: string) => boolean } = {}): RingPlan {
  return planRing({ cluster: resolvedCluster({ shards: { count } }), current, isShardReady: options.ready ?? allReady, now: options.now ?? NOW });
}

describe('planRing', () => {
  it('publishes version 1 with every shard when there is no ring yet', () => {
    expect(plan(2, undefined)).toEqual({
      action: 'publish',
      transition: false,
      document: { version: 1, vnodes: 4096, shardKeyLevels: 0, shards: shards(2) },
    });
  });

  it('lists one URL per replica of a clustered shard', () => {
    const result = planRing({ cluster: resolvedCluster({ shards: { count: 1, replicas: 3 } }), current: undefined, isShardReady: allReady, now: NOW });
    expect(result.document.shards[0]?.urls).toEqual([0, 1, 2].map((r) => `nats://demo-shard-0-${r}.demo-shard-0.mqtt.svc:4222`));
  });

  it('keeps a ring that already matches the spec', () => {
    const current = ringOf(3);
    expect(plan(3, current)).toEqual({ action: 'keep', document: current });
  });

  it('starts a transition when shards are added: new version, the previous ring and a deadline', () => {
    expect(plan(4, ringOf(3))).toEqual({
      action: 'publish',
      transition: true,
      document: {
        version: 4,
        vnodes: 4096,
        shardKeyLevels: 0,
        shards: shards(4),
        previous: { version: 3, vnodes: 4096, shardKeyLevels: 0, shards: shards(3) },
        transitionUntil: '2030-01-01T00:10:00Z',
      },
    });
  });

  it('treats a change of shardKeyLevels as a transition too', () => {
    const result = planRing({ cluster: resolvedCluster({ shards: { count: 3 }, routing: { shardKeyLevels: 1 } }), current: ringOf(3), isShardReady: allReady, now: NOW });
    expect(result).toMatchObject({ action: 'publish', transition: true, document: { version: 4, shardKeyLevels: 1 } });
  });

  it('waits for new shards to be ready before routing to them', () => {
    const current = ringOf(3);
    expect(plan(5, current, { ready: (id) => id !== 'shard-4' })).toEqual({
      action: 'hold',
      document: current,
      reason: 'ShardsNotReady',
      message: 'waiting for shard-4 to be ready before publishing the new ring',
    });
  });

  it('refuses a shrink and says which shards would lose their messages', () => {
    const current = ringOf(3);
    expect(plan(1, current)).toEqual({
      action: 'hold',
      document: current,
      reason: 'ShardShrinkRefused',
      message:
        'the ring has 3 shards and spec.shards.count is 1: removing shard-1, shard-2 would lose their stored and retained messages; set spec.shards.count back to 3',
    });
  });

  it('holds a second change until the running transition ends, and says when', () => {
    const current = ringOf(4, { previous: { version: 2, shards: shards(3) }, transitionUntil: '2030-01-01T00:05:00Z' });
    expect(plan(5, current)).toMatchObject({ action: 'hold', reason: 'TransitionInProgress', retryAfterMs: 300_000 });
  });

  it('drops the previous ring once the deadline has passed, keeping the version', () => {
    const current = ringOf(4, { previous: { version: 2, shards: shards(3) }, transitionUntil: '2030-01-01T00:05:00Z' });
    expect(plan(4, current, { now: Date.parse('2030-01-01T00:05:00Z') })).toEqual({
      action: 'publish',
      transition: false,
      document: { version: 3, vnodes: 4096, shardKeyLevels: 0, shards: shards(4) },
    });
    expect(plan(4, current)).toEqual({ action: 'keep', document: current });
  });
});

describe('ring ConfigMap', () => {
  it('stores a document the proxy accepts and reads it back', () => {
    const document = { version: 1, vnodes: 4096, shardKeyLevels: 0, shards: shards(2) };
    const configMap = buildRingConfigMap(resolvedCluster(), document);
    expect(configMap.metadata?.name).toBe('demo-ring');
    expect(configMap.metadata?.labels?.['app.kubernetes.io/component']).toBe('ring');
    expect(readRingDocument(configMap.data)).toEqual(parseRingDocument(document));
  });

  it('reads no ring from a ConfigMap without ring.json', () => {
    expect(readRingDocument(undefined)).toBeUndefined();
    expect(readRingDocument({})).toBeUndefined();
  });

  it('reports a ring.json that is not a valid ring', () => {
    expect(() => readRingDocument({ 'ring.json': '{' })).toThrow(RingUnreadableError);
    expect(() => readRingDocument({ 'ring.json': '{"version":0,"shards":[]}' })).toThrow(RingUnreadableError);
  });
});

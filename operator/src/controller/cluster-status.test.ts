import { describe, expect, it } from '@jest/globals';
import { computeStatus, type StatusInput } from './cluster-status.js';
import { mergeConditions } from './conditions.js';

const base: StatusInput = {
  generation: 3,
  previous: undefined,
  now: '2030-01-01T00:00:00Z',
  selector: 'app=x',
  proxy: { desired: 2, replicas: 2, readyReplicas: 2, updatedReplicas: 2, upToDate: true },
  shards: [{ id: 'shard-0', replicas: 1, readyReplicas: 1, streamsReady: true }],
  ring: { version: 1, vnodes: 4096, shardKeyLevels: 0, shards: [{ id: 'shard-0', urls: ['nats://a:4222'], weight: 1 }] },
  ringHold: undefined,
  failure: undefined,
};
const reasons = (input: StatusInput): string[] => (computeStatus(input).conditions ?? []).map((c) => `${c.type}=${c.status}:${c.reason}`);

describe('mergeConditions', () => {
  it('keeps lastTransitionTime while the status stays, and moves it when the status changes', () => {
    const first = mergeConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'A', message: 'a' }], { generation: 1, now: 'T1' });
    const same = mergeConditions(first, [{ type: 'Ready', status: 'False', reason: 'B', message: 'b' }], { generation: 2, now: 'T2' });
    const flipped = mergeConditions(same, [{ type: 'Ready', status: 'True', reason: 'C', message: 'c' }], { generation: 2, now: 'T3' });
    expect(same).toEqual([{ type: 'Ready', status: 'False', reason: 'B', message: 'b', observedGeneration: 2, lastTransitionTime: 'T1' }]);
    expect(flipped[0]?.lastTransitionTime).toBe('T3');
  });
});

describe('computeStatus', () => {
  it('is Ready when the ring is published and every shard and proxy is ready', () => {
    expect(reasons(base)).toEqual(['Ready=True:ClusterReady', 'Progressing=False:ReconcileComplete', 'Degraded=False:AsExpected']);
    expect(computeStatus(base)).toMatchObject({ observedGeneration: 3, proxy: { replicas: 2, readyReplicas: 2, selector: 'app=x' }, ring: { version: 1, shards: 1 } });
  });

  it.each([
    ['no ring yet', { ring: undefined }, 'Ready=False:RingNotPublished'],
    ['a shard still starting', { shards: [{ id: 'shard-0', replicas: 3, readyReplicas: 2 }] }, 'Ready=False:ShardsNotReady'],
    ['no streams on a ready shard', { shards: [{ id: 'shard-0', replicas: 1, readyReplicas: 1, streamsReady: false }] }, 'Ready=False:StreamsNotReady'],
    ['proxies still starting', { proxy: { desired: 2, replicas: 2, readyReplicas: 1, updatedReplicas: 2, upToDate: true } }, 'Ready=False:ProxiesNotReady'],
    ['a failed step', { failure: { reason: 'ApplyShardsFailed', message: 'boom' } }, 'Ready=False:ApplyShardsFailed'],
  ])('is not Ready with %s', (_name, change, expected) => {
    expect(reasons({ ...base, ...change })[0]).toBe(expected);
  });

  it('is Progressing during a proxy rollout and a ring transition', () => {
    expect(reasons({ ...base, proxy: { desired: 2, replicas: 3, readyReplicas: 2, updatedReplicas: 1, upToDate: true } })[1]).toBe('Progressing=True:ProxyRollout');
    expect(reasons({ ...base, ring: { ...base.ring!, transitionUntil: '2030-01-01T00:10:00Z' } })[1]).toBe('Progressing=True:RingTransition');
    expect(reasons({ ...base, ringHold: { reason: 'ShardsNotReady', message: 'waiting' } })[1]).toBe('Progressing=True:ShardsNotReady');
  });

  it('is Degraded when a shrink is refused or a step failed', () => {
    expect(reasons({ ...base, ringHold: { reason: 'ShardShrinkRefused', message: 'no' } })).toEqual([
      'Ready=True:ClusterReady',
      'Progressing=False:ReconcileComplete',
      'Degraded=True:ShardShrinkRefused',
    ]);
    expect(reasons({ ...base, failure: { reason: 'ApplyProxyFailed', message: 'x' } })[2]).toBe('Degraded=True:ApplyProxyFailed');
  });
});

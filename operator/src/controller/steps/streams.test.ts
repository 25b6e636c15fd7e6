// Step EnsureStreams through the reconciler, with the fake API client and the fake StreamEnsurer.
import { beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { KubeObject, ObjectRef } from '../../kube/kube-object.js';
import { mqttCluster, TEST_IMAGES } from '../../test-support/clusters.js';
import { FakeKubeClient } from '../../test-support/fake-kube-client.js';
import { FakeStreamEnsurer } from '../../test-support/fake-stream-ensurer.js';
import type { ClusterEvent } from '../event-recorder.js';
import { MqttClusterReconciler, ReconcileError } from '../mqttcluster-reconciler.js';

type Json = ReturnType<typeof JSON.parse>;
const ref = (apiVersion: string, kind: string, name: string): ObjectRef => ({ apiVersion, kind, namespace: 'mqtt', name });
const CLUSTER = ref('shoal.dev/v1alpha1', 'MqttCluster', 'demo');

let kube: FakeKubeClient;
let streams: FakeStreamEnsurer;
let events: ClusterEvent[];
let reconciler: MqttClusterReconciler;

beforeEach(() => {
  kube = new FakeKubeClient();
  streams = new FakeStreamEnsurer();
  events = [];
  reconciler = new MqttClusterReconciler({
    kube,
    clock: { now: () => Date.parse('2030-01-01T00:00:00Z') },
    log: pino({ level: 'silent' }),
    events: { record: (_c, e) => Promise.resolve(void events.push(e)) },
    images: TEST_IMAGES,
    streams,
    shardUrlOverrides: new Map([['mqtt/demo/shard-1', 'nats://127.0.0.1:4333']]),
  });
});

const status = (): Json => kube.peek(CLUSTER)?.['status'];
const condition = (type: string): Json => status()?.conditions?.find((c: Json) => c.type === type);
const shardStatus = (id: string): Json => status()?.shards?.find((s: Json) => s.id === id);

function markShardReady(i: number, replicas = 1): void {
  kube.setStatus(ref('apps/v1', 'StatefulSet', `demo-shard-${i}`), { replicas, readyReplicas: replicas });
}

function updateSpec(spec: object): void {
  const current = kube.peek(CLUSTER)!;
  kube.replace({ ...current, spec }).catch(() => undefined);
}

describe('EnsureStreams', () => {
  it('waits for a shard to be ready, then ensures its streams with the spec retention at its ring URLs (or the override)', async () => {
    kube.seed(mqttCluster({ shards: { count: 2, replicas: 3 }, retention: { offlineMaxAge: '2h', maxBytesPerShard: '64Mi' } }) as unknown as KubeObject);
    await reconciler.reconcile('mqtt/demo');
    expect(streams.calls).toEqual([]);
    expect(shardStatus('shard-0')).toMatchObject({ streamsReady: false });

    markShardReady(0, 3);
    await reconciler.reconcile('mqtt/demo');
    markShardReady(1, 3);
    await reconciler.reconcile('mqtt/demo');
    expect(streams.calls).toEqual([
      {
        shard: { id: 'shard-0', urls: [0, 1, 2].map((r) => `nats://demo-shard-0-${r}.demo-shard-0.mqtt.svc:4222`) },
        settings: { maxAgeSeconds: 7200, maxBytes: 64 * 2 ** 20, replicas: 3 },
      },
      { shard: { id: 'shard-1', urls: ['nats://127.0.0.1:4333'] }, settings: { maxAgeSeconds: 7200, maxBytes: 64 * 2 ** 20, replicas: 3 } },
    ]);
    expect(shardStatus('shard-1')).toEqual({
      id: 'shard-1',
      replicas: 3,
      readyReplicas: 3,
      streamsReady: true,
      streams: { observedGeneration: 1, offlineMaxAge: '2h', maxBytesPerShard: '64Mi', replicas: 3 },
    });
    expect(events).toContainEqual({ type: 'Normal', reason: 'StreamsEnsured', message: 'Ensured SHOAL_MSGS and SHOAL_RETAINED on shard-1' });
  });

  it('ensures once per shard per generation and retention, again when the retention changes', async () => {
    kube.seed(mqttCluster({ shards: { count: 2 } }) as unknown as KubeObject);
    await reconciler.reconcile('mqtt/demo');
    markShardReady(0);
    markShardReady(1);
    await reconciler.reconcile('mqtt/demo');
    await reconciler.reconcile('mqtt/demo');
    await reconciler.reconcile('mqtt/demo');
    expect(streams.ensured).toEqual(['shard-0', 'shard-1']);

    updateSpec({ shards: { count: 2 }, retention: { offlineMaxAge: '7d' } });
    await reconciler.reconcile('mqtt/demo');
    await reconciler.reconcile('mqtt/demo');
    expect(streams.ensured).toEqual(['shard-0', 'shard-1', 'shard-0', 'shard-1']);
    expect(streams.calls[3]?.settings.maxAgeSeconds).toBe(7 * 86_400);
    expect(shardStatus('shard-0').streams).toMatchObject({ observedGeneration: 2, offlineMaxAge: '7d' });
  });

  it('reports Degraded/StreamsNotReady and asks for a retry when a shard cannot be reached; the others are kept', async () => {
    kube.seed(mqttCluster({ shards: { count: 2 } }) as unknown as KubeObject);
    await reconciler.reconcile('mqtt/demo');
    markShardReady(0);
    markShardReady(1);
    streams.failing.add('shard-1');
    const failed = await reconciler.reconcile('mqtt/demo').catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(ReconcileError);
    expect(failed).toMatchObject({ reason: 'StreamsNotReady' });
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'StreamsNotReady', message: 'cannot ensure the streams on shard-1: connection refused' });
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'StreamsNotReady' });
    expect(shardStatus('shard-0')).toMatchObject({ streamsReady: true });
    expect(shardStatus('shard-1')).toMatchObject({ streamsReady: false });
    // the ring and the proxies went ahead
    expect(kube.peek(ref('apps/v1', 'Deployment', 'demo-proxy'))).toBeDefined();

    streams.failing.clear();
    await reconciler.reconcile('mqtt/demo');
    expect(streams.ensured).toEqual(['shard-0', 'shard-1', 'shard-1']);
    expect(condition('Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(shardStatus('shard-1')).toMatchObject({ streamsReady: true });
  });
});

import { beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { KubeApiError } from '../kube/errors.js';
import type { KubeObject, ObjectRef } from '../kube/kube-object.js';
import { mqttCluster, TEST_IMAGES } from '../test-support/clusters.js';
import { FakeKubeClient } from '../test-support/fake-kube-client.js';
import { FakeStreamEnsurer } from '../test-support/fake-stream-ensurer.js';
import type { ClusterEvent, EventRecorder } from './event-recorder.js';
import { MqttClusterReconciler, ReconcileError } from './mqttcluster-reconciler.js';

const NS = 'mqtt';
const STREAMS_RECORD = { observedGeneration: 1, offlineMaxAge: '24h', maxBytesPerShard: '1Gi', replicas: 1 };
/** Test data is read loosely (JSON.parse's type). */
type Json = ReturnType<typeof JSON.parse>;

const ref = (apiVersion: string, kind: string, name: string): ObjectRef => ({ apiVersion, kind, namespace: NS, name });
const CLUSTER = ref('shoal.dev/v1alpha1', 'MqttCluster', 'demo');
const DEPLOYMENT = ref('apps/v1', 'Deployment', 'demo-proxy');
const RING = ref('v1', 'ConfigMap', 'demo-ring');
const shardSet = (i: number): ObjectRef => ref('apps/v1', 'StatefulSet', `demo-shard-${i}`);

class Recorder implements EventRecorder {
  readonly events: ClusterEvent[] = [];
  record(_cluster: unknown, event: ClusterEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
}

let kube: FakeKubeClient;
let streams: FakeStreamEnsurer;
let events: Recorder;
let now: number;
let reconciler: MqttClusterReconciler;

beforeEach(() => {
  kube = new FakeKubeClient();
  streams = new FakeStreamEnsurer();
  events = new Recorder();
  now = Date.parse('2030-01-01T00:00:00Z');
  reconciler = new MqttClusterReconciler({ kube, clock: { now: () => now }, log: pino({ level: 'silent' }), events, images: TEST_IMAGES, streams });
});

const status = (): Json => kube.peek(CLUSTER)?.['status'];
const condition = (type: string): Json => status()?.conditions?.find((c: Json) => c.type === type);
const ring = (): Json => JSON.parse((kube.peek(RING)?.['data'] as Json)['ring.json']);

function updateSpec(spec: object): void {
  const current = kube.peek(CLUSTER)!;
  kube.replace({ ...current, spec }).catch(() => undefined);
}

/** What the StatefulSet and Deployment controllers would report once every pod runs. */
function markReady(shards: number): void {
  for (let i = 0; i < shards; i += 1) {
    const set = kube.peek(shardSet(i));
    if (set !== undefined) kube.setStatus(shardSet(i), { replicas: 1, readyReplicas: 1 });
  }
  const deployment = kube.peek(DEPLOYMENT)!;
  const replicas = (deployment['spec'] as Json).replicas ?? 1;
  kube.setStatus(DEPLOYMENT, { observedGeneration: deployment.metadata.generation, replicas, readyReplicas: replicas, updatedReplicas: replicas });
}

describe('MqttClusterReconciler', () => {
  it('does nothing for a cluster that does not exist', async () => {
    await expect(reconciler.reconcile('mqtt/demo')).resolves.toEqual({});
    expect(kube.writes).toEqual([]);
  });

  it('creates every child with the owner reference and the field manager, and publishes ring version 1', async () => {
    kube.seed(mqttCluster({ shards: { count: 2 } }) as unknown as KubeObject);
    await reconciler.reconcile('mqtt/demo');
    const applied = kube.writes.filter((w) => w.verb === 'apply');
    expect(applied.map((w) => `${w.ref.kind}/${w.ref.name}`)).toEqual([
      'ConfigMap/demo-shard-0', 'Service/demo-shard-0', 'StatefulSet/demo-shard-0',
      'ConfigMap/demo-shard-1', 'Service/demo-shard-1', 'StatefulSet/demo-shard-1',
      'ConfigMap/demo-ring',
      'ServiceAccount/demo-proxy', 'Role/demo-proxy', 'RoleBinding/demo-proxy', 'ConfigMap/demo-proxy-config',
      'Deployment/demo-proxy', 'Service/demo-mqtt', 'PodDisruptionBudget/demo-proxy',
    ]);
    for (const write of applied) {
      expect(write.fieldManager).toBe('shoal-operator');
      expect(write.object?.metadata.ownerReferences).toEqual([
        { apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', name: 'demo', uid: 'uid-demo', controller: true, blockOwnerDeletion: true },
      ]);
    }
    expect(ring()).toMatchObject({ version: 1, shards: [{ id: 'shard-0' }, { id: 'shard-1' }] });
    expect(events.events.filter((e) => e.reason === 'Created')).toHaveLength(14);
    expect(events.events).toContainEqual({ type: 'Normal', reason: 'RingPublished', message: 'Published ring version 1' });
  });

  it('reports progress until shards and proxies are ready, then Ready with observedGeneration', async () => {
    kube.seed(mqttCluster({ shards: { count: 2 } }) as unknown as KubeObject);
    await reconciler.reconcile('mqtt/demo');
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'ShardsNotReady', observedGeneration: 1 });
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'ShardsStarting' });
    expect(condition('Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });

    markReady(2);
    now += 60_000;
    await reconciler.reconcile('mqtt/demo');
    expect(status()).toEqual({
      observedGeneration: 1,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'ClusterReady', message: '2 proxies and 2 shards ready', observedGeneration: 1, lastTransitionTime: '2030-01-01T00:01:00Z' },
        { type: 'Progressing', status: 'False', reason: 'ReconcileComplete', message: 'every child matches the spec', observedGeneration: 1, lastTransitionTime: '2030-01-01T00:01:00Z' },
        { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problem found', observedGeneration: 1, lastTransitionTime: '2030-01-01T00:00:00Z' },
      ],
      proxy: {
        replicas: 2,
        readyReplicas: 2,
        selector: 'app.kubernetes.io/name=shoal,app.kubernetes.io/instance=demo,app.kubernetes.io/component=proxy',
      },
      shards: [0, 1].map((i) => ({ id: `shard-${i}`, replicas: 1, readyReplicas: 1, streamsReady: true, streams: STREAMS_RECORD })),
      ring: { version: 1, shards: 2 },
    });
  });

  it('writes the status only when it changed', async () => {
    kube.seed(mqttCluster({ shards: { count: 1 } }) as unknown as KubeObject);
    await reconciler.reconcile('mqtt/demo');
    markReady(1);
    await reconciler.reconcile('mqtt/demo');
    const statusWrites = (): number => kube.writes.filter((w) => w.verb === 'applyStatus').length;
    expect(statusWrites()).toBe(2);
    const before = status();
    now += 3_600_000;
    await reconciler.reconcile('mqtt/demo');
    expect(status()).toEqual(before);
    expect(statusWrites()).toBe(2);
  });

  it('turns a shard-count increase into a ring transition once the new shard is ready, and ends it after the deadline', async () => {
    kube.seed(mqttCluster({ shards: { count: 2 } }) as unknown as KubeObject);
    await reconciler.reconcile('mqtt/demo');
    markReady(2);
    updateSpec({ shards: { count: 3 } });
    await reconciler.reconcile('mqtt/demo');
    expect(kube.peek(shardSet(2))).toBeDefined();
    expect(ring().version).toBe(1);
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'ShardsNotReady', observedGeneration: 2 });

    markReady(3);
    const result = await reconciler.reconcile('mqtt/demo');
    expect(ring()).toMatchObject({ version: 2, previous: { version: 1 }, transitionUntil: '2030-01-01T00:10:00Z' });
    expect(ring().shards.map((s: Json) => s.id)).toEqual(['shard-0', 'shard-1', 'shard-2']);
    expect(result.requeueAfterMs).toBe(601_000);
    expect(status().ring).toEqual({ version: 2, shards: 3, transitionUntil: '2030-01-01T00:10:00Z' });
    expect(condition('Progressing')).toMatchObject({ reason: 'RingTransition' });
    expect(events.events).toContainEqual(expect.objectContaining({ reason: 'RingTransitionStarted' }));

    now = Date.parse('2030-01-01T00:10:00Z');
    await reconciler.reconcile('mqtt/demo');
    expect(ring()).not.toHaveProperty('previous');
    expect(ring().version).toBe(2);
  });

  it('refuses a shrink that would lose data, keeps the shard running, and says why in Degraded', async () => {
    kube.seed(mqttCluster({ shards: { count: 3 } }) as unknown as KubeObject);
    await reconciler.reconcile('mqtt/demo');
    updateSpec({ shards: { count: 2 } });
    await expect(reconciler.reconcile('mqtt/demo')).resolves.toEqual({});
    expect(ring().shards).toHaveLength(3);
    expect(kube.peek(shardSet(2))).toBeDefined();
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'ShardShrinkRefused', observedGeneration: 2 });
    expect(condition('Degraded').message).toContain('removing shard-2 would lose');
  });

  it('hands replicas to an HPA when autoscaling is on, and prunes the HPA when it is turned off', async () => {
    kube.seed(mqttCluster({ proxy: { autoscaling: { enabled: true } } }) as unknown as KubeObject);
    await reconciler.reconcile('mqtt/demo');
    const hpa = ref('autoscaling/v2', 'HorizontalPodAutoscaler', 'demo-proxy');
    expect(kube.peek(hpa)).toBeDefined();
    expect(kube.writes.find((w) => w.ref.kind === 'Deployment')?.object?.['spec']).not.toHaveProperty('replicas');

    updateSpec({ proxy: { autoscaling: { enabled: false }, replicas: 4 } });
    await reconciler.reconcile('mqtt/demo');
    expect(kube.peek(hpa)).toBeUndefined();
    expect((kube.peek(DEPLOYMENT)?.['spec'] as Json).replicas).toBe(4);
    expect(events.events).toContainEqual({ type: 'Normal', reason: 'Deleted', message: 'Deleted HorizontalPodAutoscaler mqtt/demo-proxy' });
  });

  it('sets Degraded with the failed step and retries when an apply fails', async () => {
    kube.seed(mqttCluster({ shards: { count: 1 } }) as unknown as KubeObject);
    kube.failNext('apply', new KubeApiError(500, 'InternalError', 'etcdserver: request timed out'), 'Deployment');
    await expect(reconciler.reconcile('mqtt/demo')).rejects.toThrow(ReconcileError);
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'ApplyProxyFailed', message: 'etcdserver: request timed out' });
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'ApplyProxyFailed' });
    expect(events.events).toContainEqual({ type: 'Warning', reason: 'ApplyProxyFailed', message: 'etcdserver: request timed out' });

    await reconciler.reconcile('mqtt/demo');
    expect(condition('Degraded')).toMatchObject({ status: 'False' });
  });

  it.each([
    ['an invalid spec (a server without the CRD schema)', { shards: { replicas: 2 } }, 'InvalidSpec'],
    ['a spec the proxy cannot serve yet', { proxy: { listeners: { tls: { enabled: true, secretName: 'tls' } } } }, 'UnsupportedSpec'],
  ])('reports %s in Degraded without retrying', async (_name, spec, reason) => {
    kube.seed(mqttCluster(spec as object) as unknown as KubeObject);
    await expect(reconciler.reconcile('mqtt/demo')).resolves.toEqual({});
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason });
  });

  it('reports an unreadable ring instead of overwriting it', async () => {
    kube.seed(mqttCluster() as unknown as KubeObject);
    kube.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'demo-ring', namespace: NS }, data: { 'ring.json': 'garbage' } });
    await reconciler.reconcile('mqtt/demo');
    expect(condition('Degraded')).toMatchObject({ status: 'True', reason: 'RingUnreadable' });
    expect((kube.peek(RING)?.['data'] as Json)['ring.json']).toBe('garbage');
  });

  it('leaves a cluster that is being deleted to garbage collection', async () => {
    kube.seed({ ...(mqttCluster() as unknown as KubeObject), metadata: { name: 'demo', namespace: NS, uid: 'uid-demo', deletionTimestamp: '2030-01-01T00:00:00Z' } });
    await reconciler.reconcile('mqtt/demo');
    expect(kube.writes).toEqual([]);
  });
});

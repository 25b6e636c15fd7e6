import { describe, expect, it } from '@jest/globals';
import { resolvedCluster } from '../test-support/clusters.js';
import { buildShardObjects, shardIndexes } from './desired-state.js';
import { buildShardConfigMap, renderNatsConfig } from './shard-config.js';
import { buildShardService, buildShardStatefulSet } from './shard-statefulset.js';

const owner = { apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', name: 'demo', uid: 'uid-demo', controller: true, blockOwnerDeletion: true };
const selector = (i: number): object => ({
  'app.kubernetes.io/name': 'shoal',
  'app.kubernetes.io/instance': 'demo',
  'app.kubernetes.io/component': 'shard',
  'shoal.dev/shard': String(i),
});
const meta = (i: number): object => ({
  name: `demo-shard-${i}`,
  namespace: 'mqtt',
  labels: { ...selector(i), 'app.kubernetes.io/part-of': 'shoal', 'app.kubernetes.io/managed-by': 'shoal-operator' },
  ownerReferences: [owner],
});

describe('nats-server configuration', () => {
  it('runs a single server with JetStream on 90% of the volume', () => {
    expect(renderNatsConfig(resolvedCluster({ shards: { storage: { size: '10Gi' } } }), 1)).toBe(
      [
        '# Rendered by shoal-operator; edits are overwritten.',
        'server_name: $POD_NAME',
        'listen: 0.0.0.0:4222',
        'http: 0.0.0.0:8222',
        'pid_file: /var/run/nats/nats.pid',
        'lame_duck_duration: 30s',
        'lame_duck_grace_period: 10s',
        'jetstream {',
        '  store_dir: /data/jetstream',
        '  max_file_store: 9663676416',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('routes three replicas to each other through the headless Service', () => {
    const text = renderNatsConfig(resolvedCluster({ shards: { replicas: 3 } }), 2);
    expect(text).toContain(
      [
        'cluster {',
        '  name: demo-shard-2',
        '  listen: 0.0.0.0:6222',
        '  routes: [',
        '    nats://demo-shard-2-0.demo-shard-2.mqtt.svc:6222',
        '    nats://demo-shard-2-1.demo-shard-2.mqtt.svc:6222',
        '    nats://demo-shard-2-2.demo-shard-2.mqtt.svc:6222',
        '  ]',
        '}',
      ].join('\n'),
    );
  });

  it('stores the configuration in the ConfigMap X-shard-<i>', () => {
    const cluster = resolvedCluster();
    expect(buildShardConfigMap(cluster, 0)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(0),
      data: { 'nats.conf': renderNatsConfig(cluster, 0) },
    });
  });
});

describe('shard workload', () => {
  it('gives each shard a headless Service that publishes not-ready pods', () => {
    expect(buildShardService(resolvedCluster(), 0)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(0),
      spec: {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: selector(0),
        ports: [
          { name: 'client', port: 4222, targetPort: 'client', protocol: 'TCP' },
          { name: 'cluster', port: 6222, targetPort: 'cluster', protocol: 'TCP' },
          { name: 'monitor', port: 8222, targetPort: 'monitor', protocol: 'TCP' },
        ],
      },
    });
  });

  it('builds a hardened StatefulSet with JetStream file storage on a retained PVC', () => {
    const set = buildShardStatefulSet(resolvedCluster({ shards: { replicas: 3, storage: { size: '50Gi', storageClassName: 'ssd' } } }), 1);
    expect(set.metadata).toEqual(meta(1));
    const { template, ...rest } = set.spec!;
    expect(rest).toEqual({
      replicas: 3,
      serviceName: 'demo-shard-1',
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selector(1) },
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      volumeClaimTemplates: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data', labels: selector(1) },
          spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'ssd', resources: { requests: { storage: '50Gi' } } },
        },
      ],
    });
    const pod = template.spec!;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const container = pod.containers[0]!;
    expect(container.image).toBe('nats:test');
    expect(container.args).toEqual(['--config', '/etc/nats/nats.conf']);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.volumeMounts).toEqual([
      { name: 'config', mountPath: '/etc/nats', readOnly: true },
      { name: 'data', mountPath: '/data' },
      { name: 'run', mountPath: '/var/run/nats' },
    ]);
    expect(pod.volumes).toEqual([
      { name: 'config', configMap: { name: 'demo-shard-1' } },
      { name: 'run', emptyDir: { sizeLimit: '1Mi' } },
    ]);
  });
});

describe('GOMAXPROCS of the shard container', () => {
  const env = (resources?: object): unknown =>
    buildShardStatefulSet(resolvedCluster(resources === undefined ? {} : { shards: { resources } }), 0).spec!.template.spec!.containers[0]!.env;
  const fromField = (resource: string): object => ({ name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { containerName: 'nats', resource, divisor: '1' } } });
  const podName = { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };

  it('follows the CPU request, rounded up to whole cores, when there is no limit (the default 500m gives 1)', () => {
    expect(env()).toEqual([podName, fromField('requests.cpu')]);
  });

  it('follows the CPU limit when there is one', () => {
    expect(env({ requests: { cpu: '500m' }, limits: { cpu: '2', memory: '2Gi' } })).toEqual([podName, fromField('limits.cpu')]);
  });

  it('is left to the Go runtime when the spec names no CPU', () => {
    expect(env({ requests: { memory: '1Gi' }, limits: { memory: '2Gi' } })).toEqual([podName]);
  });
});

describe('shardIndexes', () => {
  const ring = (ids: string[], previous?: string[]): ReturnType<typeof JSON.parse> => ({
    version: 2,
    vnodes: 4096,
    shardKeyLevels: 0,
    shards: ids.map((id) => ({ id, urls: ['nats://x:4222'], weight: 1 })),
    ...(previous === undefined ? {} : { previous: { version: 1, vnodes: 4096, shardKeyLevels: 0, shards: previous.map((id) => ({ id, urls: ['nats://x:4222'], weight: 1 })) } }),
  });

  it('runs the shards of the spec', () => {
    expect(shardIndexes(resolvedCluster({ shards: { count: 3 } }), undefined)).toEqual([0, 1, 2]);
  });

  it('keeps every shard the ring or its previous ring still routes to', () => {
    expect(shardIndexes(resolvedCluster({ shards: { count: 2 } }), ring(['shard-0', 'shard-1', 'shard-4'], ['shard-3']))).toEqual([0, 1, 3, 4]);
  });

  it('builds three objects per shard', () => {
    const objects = buildShardObjects(resolvedCluster({ shards: { count: 2 } }), [0, 1]);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/demo-shard-0',
      'Service/demo-shard-0',
      'StatefulSet/demo-shard-0',
      'ConfigMap/demo-shard-1',
      'Service/demo-shard-1',
      'StatefulSet/demo-shard-1',
    ]);
  });
});

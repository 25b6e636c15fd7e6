// `X-shard-<i>`: one NATS JetStream shard, a StatefulSet of 1 or 3 nats-servers with file storage on PVCs,
// and its headless Service (stable pod DNS names for the ring URLs and the cluster routes).
import type { V1Service, V1StatefulSet } from './kube-types.js';
import { createHash } from 'node:crypto';
import { selectorLabels } from './labels.js';
import { CONFIG_HASH_ANNOTATION, NATS_CONFIG_KEY, shardName } from './names.js';
import { goMaxProcs, placement, resources } from './pod-placement.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security.js';
import { childMeta, type ResolvedCluster } from './resolved-cluster.js';
import { NATS_CONFIG_DIR, NATS_DATA_DIR, NatsPort, renderNatsConfig } from './shard-config.js';

/** The headless Service `X-shard-<i>`; not-ready pods are published so a 3-node cluster can form. */
export function buildShardService(cluster: ResolvedCluster, index: number): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cluster, shardName(cluster.name, index), 'shard', { shard: index }),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(cluster.name, 'shard', index),
      ports: [
        { name: 'client', port: NatsPort.client, targetPort: 'client', protocol: 'TCP' },
        { name: 'cluster', port: NatsPort.cluster, targetPort: 'cluster', protocol: 'TCP' },
        { name: 'monitor', port: NatsPort.monitor, targetPort: 'monitor', protocol: 'TCP' },
      ],
    },
  };
}

/** The StatefulSet `X-shard-<i>`. Volumes are kept when the set is deleted or scaled (the data outlives pods). */
export function buildShardStatefulSet(cluster: ResolvedCluster, index: number): V1StatefulSet {
  const { shards } = cluster.spec;
  const name = shardName(cluster.name, index);
  const labels = selectorLabels(cluster.name, 'shard', index);
  const configHash = createHash('sha256').update(renderNatsConfig(cluster, index)).digest('hex').slice(0, 16);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMeta(cluster, name, 'shard', { shard: index }),
    spec: {
      replicas: shards.replicas,
      serviceName: name,
      // All replicas start together, so a 3-node JetStream cluster can elect its meta leader.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: {
        metadata: { labels: { ...labels }, annotations: { [CONFIG_HASH_ANNOTATION]: configHash } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 60,
          securityContext: restrictedPodSecurityContext(),
          containers: [
            {
              name: 'nats',
              image: shards.image ?? cluster.images.nats,
              imagePullPolicy: 'IfNotPresent',
              args: ['--config', `${NATS_CONFIG_DIR}/${NATS_CONFIG_KEY}`],
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, ...goMaxProcs('nats', shards.resources)],
              ports: [
                { name: 'client', containerPort: NatsPort.client, protocol: 'TCP' },
                { name: 'cluster', containerPort: NatsPort.cluster, protocol: 'TCP' },
                { name: 'monitor', containerPort: NatsPort.monitor, protocol: 'TCP' },
              ],
              readinessProbe: { httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' }, periodSeconds: 30, failureThreshold: 3 },
              // Lame-duck mode moves clients off before the server stops.
              lifecycle: { preStop: { exec: { command: ['nats-server', '--signal', 'ldm=/var/run/nats/nats.pid'] } } },
              resources: resources(shards.resources),
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: [
                { name: 'config', mountPath: NATS_CONFIG_DIR, readOnly: true },
                { name: 'data', mountPath: NATS_DATA_DIR },
                { name: 'run', mountPath: '/var/run/nats' },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name } },
            { name: 'run', emptyDir: { sizeLimit: '1Mi' } },
          ],
          ...placement(shards.placement),
        },
      },
      volumeClaimTemplates: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data', labels: { ...labels } },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(shards.storage.storageClassName === undefined ? {} : { storageClassName: shards.storage.storageClassName }),
            resources: { requests: { storage: shards.storage.size } },
          },
        },
      ],
    },
  };
}

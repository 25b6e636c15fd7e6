// `X-shard-<i>` ConfigMap: the nats-server configuration of one shard (JetStream on the pod's volume;
// with 3 replicas, a cluster whose routes are the three pods of the StatefulSet).
import type { V1ConfigMap } from './kube-types.js';
import { quantityToBytes } from '../api/v1alpha1/quantity.js';
import { NATS_CONFIG_KEY, shardName } from './names.js';
import { childMeta, type ResolvedCluster } from './resolved-cluster.js';

/** nats-server ports. */
export const NatsPort = { client: 4222, cluster: 6222, monitor: 8222 } as const;
/** Where the shard's PersistentVolumeClaim is mounted. */
export const NATS_DATA_DIR = '/data';
/** Where the configuration is mounted. */
export const NATS_CONFIG_DIR = '/etc/nats';

/** Share of the volume JetStream may fill (the rest is headroom for compaction and metadata). */
const JETSTREAM_VOLUME_SHARE = 0.9;

/** DNS name of replica `replica` of shard `index` (through the shard's headless Service). */
export function shardPodHost(cluster: ResolvedCluster, index: number, replica: number): string {
  const name = shardName(cluster.name, index);
  return `${name}-${replica}.${name}.${cluster.namespace}.svc`;
}

/** The nats-server configuration text of shard `index`. */
export function renderNatsConfig(cluster: ResolvedCluster, index: number): string {
  const { replicas, storage } = cluster.spec.shards;
  const maxFileStore = Math.floor(quantityToBytes(storage.size) * JETSTREAM_VOLUME_SHARE);
  const lines = [
    '# Rendered by shoal-operator; edits are overwritten.',
    'server_name: $POD_NAME',
    `listen: 0.0.0.0:${NatsPort.client}`,
    `http: 0.0.0.0:${NatsPort.monitor}`,
    'pid_file: /var/run/nats/nats.pid',
    'lame_duck_duration: 30s',
    'lame_duck_grace_period: 10s',
    'jetstream {',
    `  store_dir: ${NATS_DATA_DIR}/jetstream`,
    `  max_file_store: ${maxFileStore}`,
    '}',
  ];
  if (replicas === 3) {
    const routes = [0, 1, 2].map((replica) => `    nats://${shardPodHost(cluster, index, replica)}:${NatsPort.cluster}`);
    lines.push(
      'cluster {',
      `  name: ${shardName(cluster.name, index)}`,
      `  listen: 0.0.0.0:${NatsPort.cluster}`,
      '  routes: [',
      ...routes,
      '  ]',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The ConfigMap `X-shard-<i>`. */
export function buildShardConfigMap(cluster: ResolvedCluster, index: number): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(cluster, shardName(cluster.name, index), 'shard', { shard: index }),
    data: { [NATS_CONFIG_KEY]: renderNatsConfig(cluster, index) },
  };
}

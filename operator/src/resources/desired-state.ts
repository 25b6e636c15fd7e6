// Everything one MqttCluster should own, in apply order, as plain objects.
import type { KubernetesObject } from './kube-types.js';
import type { RingDocument, RingDocumentInput } from '@shoal/proxy';
import type { KubeObject, TypeRef } from '../kube/kube-object.js';
import { shardIndexOf } from './names.js';
import { buildProxyRole, buildProxyRoleBinding, buildProxyServiceAccount } from './proxy-access.js';
import { buildProxyConfigMap } from './proxy-config.js';
import { buildProxyDeployment } from './proxy-deployment.js';
import { buildProxyHorizontalPodAutoscaler, buildProxyPodDisruptionBudget } from './proxy-disruption.js';
import { buildProxyMetricsService, buildProxyServiceMonitor } from './proxy-monitoring.js';
import { buildMqttService } from './proxy-service.js';
import type { ResolvedCluster } from './resolved-cluster.js';
import { buildRingConfigMap } from './ring-configmap.js';
import { buildShardConfigMap } from './shard-config.js';
import { buildShardNetworkPolicy } from './shard-network-policy.js';
import { buildShardService, buildShardStatefulSet } from './shard-statefulset.js';

/** Every kind the operator creates; pruning looks for leftovers among these. */
export const OWNED_KINDS: readonly TypeRef[] = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
];

/** A builder's result as a KubeObject (builders always set apiVersion, kind and name). */
export function toKubeObject(obj: KubernetesObject): KubeObject {
  const name = obj.metadata?.name;
  if (obj.apiVersion === undefined || obj.kind === undefined || name === undefined) {
    throw new TypeError('a built object lacks apiVersion, kind or metadata.name');
  }
  return obj as unknown as KubeObject;
}

const present = (objects: readonly (KubernetesObject | KubeObject | undefined)[]): KubeObject[] =>
  objects.filter((obj) => obj !== undefined).map((obj) => toKubeObject(obj as KubernetesObject));

/**
 * Indexes of the shards to run: those the spec asks for, plus any the ring (or its previous ring) still
 * routes to, so a shard's servers stay up as long as a proxy may use them.
 */
export function shardIndexes(cluster: ResolvedCluster, ring: RingDocument | undefined): number[] {
  const indexes = new Set(Array.from({ length: cluster.spec.shards.count }, (_, i) => i));
  for (const shard of [...(ring?.shards ?? []), ...(ring?.previous?.shards ?? [])]) {
    const index = shardIndexOf(shard.id);
    if (index !== undefined) indexes.add(index);
  }
  return [...indexes].sort((a, b) => a - b);
}

/** The shards' ConfigMaps, headless Services and StatefulSets. */
export function buildShardObjects(cluster: ResolvedCluster, indexes: readonly number[]): KubeObject[] {
  return [
    ...present([buildShardNetworkPolicy(cluster)]),
    ...indexes.flatMap((index) => present([buildShardConfigMap(cluster, index), buildShardService(cluster, index), buildShardStatefulSet(cluster, index)])),
  ];
}

/** The ring ConfigMap for `document`. */
export function buildRingObject(cluster: ResolvedCluster, document: RingDocumentInput): KubeObject {
  return toKubeObject(buildRingConfigMap(cluster, document));
}

/** The proxy tier: identity and access first, then configuration, workload, Service, budget, autoscaler, monitoring. */
export function buildProxyObjects(cluster: ResolvedCluster): KubeObject[] {
  return present([
    buildProxyServiceAccount(cluster),
    buildProxyRole(cluster),
    buildProxyRoleBinding(cluster),
    buildProxyConfigMap(cluster),
    buildProxyDeployment(cluster),
    buildMqttService(cluster),
    buildProxyPodDisruptionBudget(cluster),
    buildProxyHorizontalPodAutoscaler(cluster),
    buildProxyMetricsService(cluster),
    buildProxyServiceMonitor(cluster),
  ]);
}

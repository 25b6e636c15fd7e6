// What a pod asks for and where it may run, copied from the spec into a pod template.
import type { V1Container, V1EnvVar, V1PodSpec } from './kube-types.js';
import type { MqttClusterSpec } from '../api/v1alpha1/mqttcluster-spec.js';

type Resources = MqttClusterSpec['proxy']['resources'];
type Placement = MqttClusterSpec['proxy']['placement'];

/** Container resources in the shape of a pod spec (absent lists left out). */
export function resources(spec: Resources): NonNullable<V1Container['resources']> {
  return {
    ...(spec.requests === undefined ? {} : { requests: { ...spec.requests } }),
    ...(spec.limits === undefined ? {} : { limits: { ...spec.limits } }),
  };
}

/**
 * `GOMAXPROCS` for a Go container: its CPU limit, or without one its CPU request, in whole cores (the downward API
 * rounds up: 500m → 1). A Go runtime left to count the node's cores schedules on all of them and spins idle
 * processors for each message, taking that CPU from the pods beside it (docs/performance.md, "Shards on one core
 * each"); Go 1.25+ reads a CPU limit by itself, not a request. No CPU in either: no variable, the runtime's default.
 */
export function goMaxProcs(containerName: string, spec: Resources): V1EnvVar[] {
  const resource = spec.limits?.['cpu'] !== undefined ? 'limits.cpu' : spec.requests?.['cpu'] !== undefined ? 'requests.cpu' : undefined;
  if (resource === undefined) return [];
  return [{ name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { containerName, resource, divisor: '1' } } }];
}

/** nodeSelector, tolerations, affinity and topology spread, copied from the spec. */
export function placement(spec: Placement): Partial<V1PodSpec> {
  return {
    ...(spec.nodeSelector === undefined ? {} : { nodeSelector: { ...spec.nodeSelector } }),
    ...(spec.tolerations === undefined ? {} : { tolerations: spec.tolerations }),
    ...(spec.affinity === undefined ? {} : { affinity: spec.affinity }),
    ...(spec.topologySpreadConstraints === undefined
      ? {}
      : { topologySpreadConstraints: spec.topologySpreadConstraints as unknown as V1PodSpec['topologySpreadConstraints'] }),
  } as Partial<V1PodSpec>;
}


// What a pod asks for and where it may run, copied from the spec into a pod template.
import type { V1Container, V1PodSpec } from './kube-types.js';
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


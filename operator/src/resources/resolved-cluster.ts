// What every builder takes: the cluster's identity, its validated spec and the operator's images.
import type { V1ObjectMeta, V1OwnerReference } from './kube-types.js';
import { API_VERSION, KIND } from '../api/v1alpha1/group-version.js';
import type { MqttClusterSpec } from '../api/v1alpha1/mqttcluster-spec.js';
import { childLabels, type Component } from './labels.js';

/** Images used when the spec names none (the operator's configuration sets them). */
export interface DefaultImages {
  readonly proxy: string;
  readonly nats: string;
}

/** A validated MqttCluster: identity, spec with defaults, and the default images. */
export interface ResolvedCluster {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly spec: MqttClusterSpec;
  readonly images: DefaultImages;
}

/** The controller owner reference every child carries (garbage collection deletes children with the cluster). */
export function ownerReference(cluster: ResolvedCluster): V1OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: cluster.name, uid: cluster.uid, controller: true, blockOwnerDeletion: true };
}

/** Metadata of a child: name, namespace, labels and the owner reference. */
export function childMeta(
  cluster: ResolvedCluster,
  name: string,
  component: Component,
  extra: { readonly shard?: number; readonly annotations?: Readonly<Record<string, string>> } = {},
): V1ObjectMeta {
  return {
    name,
    namespace: cluster.namespace,
    labels: childLabels(cluster.name, component, extra.shard),
    ...(extra.annotations === undefined ? {} : { annotations: { ...extra.annotations } }),
    ownerReferences: [ownerReference(cluster)],
  };
}

// Maps a watched object to the key of the MqttCluster to reconcile (every event on any kind ends here).
import { GROUP, KIND } from '../api/v1alpha1/group-version.js';
import type { KubeObject } from '../kube/kube-object.js';

/** `namespace/name` of an MqttCluster. */
export const clusterKey = (obj: KubeObject): string => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

/** Key of the MqttCluster that controls `obj`, or undefined when no MqttCluster does (ignored). */
export function ownerKeyOf(obj: KubeObject): string | undefined {
  const owner = obj.metadata.ownerReferences?.find((ref) => ref.controller === true && ref.kind === KIND && ref.apiVersion.startsWith(`${GROUP}/`));
  return owner === undefined ? undefined : `${obj.metadata.namespace ?? ''}/${owner.name}`;
}

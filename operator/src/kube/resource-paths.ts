// REST paths of the kinds the operator touches (no discovery round trip: the set is fixed and known).
import { GROUP, PLURAL, VERSION } from '../api/v1alpha1/group-version.js';
import type { ObjectRef, TypeRef } from './kube-object.js';

const PLURALS: Readonly<Record<string, string>> = {
  'v1/ConfigMap': 'configmaps',
  'v1/Service': 'services',
  'v1/ServiceAccount': 'serviceaccounts',
  'v1/Event': 'events',
  'rbac.authorization.k8s.io/v1/Role': 'roles',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rolebindings',
  'apps/v1/Deployment': 'deployments',
  'apps/v1/StatefulSet': 'statefulsets',
  'policy/v1/PodDisruptionBudget': 'poddisruptionbudgets',
  'autoscaling/v2/HorizontalPodAutoscaler': 'horizontalpodautoscalers',
  'coordination.k8s.io/v1/Lease': 'leases',
  'monitoring.coreos.com/v1/ServiceMonitor': 'servicemonitors',
  'networking.k8s.io/v1/NetworkPolicy': 'networkpolicies',
  [`${GROUP}/${VERSION}/MqttCluster`]: PLURAL,
};

/** `/api/v1/namespaces/ns/configmaps` or `/apis/apps/v1/deployments` (all namespaces when `namespace` is ''). */
export function collectionPath(type: TypeRef, namespace: string): string {
  const plural = PLURALS[`${type.apiVersion}/${type.kind}`];
  if (plural === undefined) throw new TypeError(`no REST path known for ${type.apiVersion} ${type.kind}`);
  const root = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  return namespace === '' ? `${root}/${plural}` : `${root}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

/** Path of one object. */
export function objectPath(ref: ObjectRef): string {
  return `${collectionPath(ref, ref.namespace)}/${encodeURIComponent(ref.name)}`;
}

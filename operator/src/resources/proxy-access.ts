// `X-proxy` ServiceAccount, Role and RoleBinding: the proxies may read their ring ConfigMap, nothing else.
import type { V1Role, V1RoleBinding, V1ServiceAccount } from './kube-types.js';
import { proxyName, ringName } from './names.js';
import { childMeta, type ResolvedCluster } from './resolved-cluster.js';

/** The proxies' ServiceAccount; no token is mounted unless a pod asks for one. */
export function buildProxyServiceAccount(cluster: ResolvedCluster): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: childMeta(cluster, proxyName(cluster.name), 'proxy'),
    automountServiceAccountToken: false,
  };
}

/**
 * Read access to `X-ring` only (get, and list/watch restricted to that name). With autoscaling, also `patch` on
 * pods, for the pod-deletion-cost annotation each proxy keeps on its own pod (docs/autoscaling.md): RBAC cannot
 * name pods created later, so the rule covers the namespace's pods (patch only: no get, list, create or delete).
 */
export function buildProxyRole(cluster: ResolvedCluster): V1Role {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: childMeta(cluster, proxyName(cluster.name), 'proxy'),
    rules: [
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [ringName(cluster.name)], verbs: ['get', 'list', 'watch'] },
      ...(cluster.spec.proxy.autoscaling.enabled ? [{ apiGroups: [''], resources: ['pods'], verbs: ['patch'] }] : []),
    ],
  };
}

/** Binds the Role to the proxies' ServiceAccount. */
export function buildProxyRoleBinding(cluster: ResolvedCluster): V1RoleBinding {
  const name = proxyName(cluster.name);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: childMeta(cluster, name, 'proxy'),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: cluster.namespace }],
  };
}

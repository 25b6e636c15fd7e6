// `X-proxy` PodDisruptionBudget and HorizontalPodAutoscaler: how many proxies run, and how many may go at once.
import type { V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from './kube-types.js';
import { selectorLabels } from './labels.js';
import { proxyName } from './names.js';
import { childMeta, type ResolvedCluster } from './resolved-cluster.js';

/** Name of the per-pod metric the HPA scales on (exported by every proxy, served by a metrics adapter). */
export const CONNECTIONS_METRIC = 'shoal_proxy_connections';

/** Voluntary disruptions (node drains) take at most `proxy.maxUnavailable` proxies at a time. */
export function buildProxyPodDisruptionBudget(cluster: ResolvedCluster): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(cluster, proxyName(cluster.name), 'proxy'),
    spec: {
      maxUnavailable: cluster.spec.proxy.maxUnavailable,
      selector: { matchLabels: selectorLabels(cluster.name, 'proxy') },
    },
  };
}

/** The HPA (autoscaling/v2) on the average open connections per proxy pod; undefined when autoscaling is off. */
export function buildProxyHorizontalPodAutoscaler(cluster: ResolvedCluster): V2HorizontalPodAutoscaler | undefined {
  const { autoscaling } = cluster.spec.proxy;
  if (!autoscaling.enabled) return undefined;
  const name = proxyName(cluster.name);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMeta(cluster, name, 'proxy'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [
        {
          type: 'Pods',
          pods: {
            metric: { name: CONNECTIONS_METRIC },
            target: { type: 'AverageValue', averageValue: String(autoscaling.targetConnectionsPerPod) },
          },
        },
      ],
      // Every proxy removed sends its clients to the others: one at a time, at most every two minutes, after ten
      // minutes of lower load (the emptiest goes first: pod-deletion-cost, docs/autoscaling.md).
      behavior: { scaleDown: { stabilizationWindowSeconds: 600, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] } },
    },
  };
}

// `X-proxy-metrics` (headless Service) and the ServiceMonitor that scrapes it, when monitoring asks for one.
import type { V1Service } from './kube-types.js';
import type { KubeObject } from '../kube/kube-object.js';
import { selectorLabels } from './labels.js';
import { proxyMetricsServiceName, proxyName } from './names.js';
import { PROXY_HTTP_PORT } from './proxy-config.js';
import { childMeta, ownerReference, type ResolvedCluster } from './resolved-cluster.js';

/** Marks the metrics Service, so the ServiceMonitor does not also select `X-mqtt`. */
export const METRICS_LABEL = 'shoal.dev/metrics';

/** The proxies' `/metrics` port behind a headless Service (never on the public `X-mqtt`). */
export function buildProxyMetricsService(cluster: ResolvedCluster): V1Service | undefined {
  if (!cluster.spec.monitoring.serviceMonitor.enabled) return undefined;
  const meta = childMeta(cluster, proxyMetricsServiceName(cluster.name), 'proxy');
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...meta, labels: { ...meta.labels, [METRICS_LABEL]: 'true' } },
    spec: {
      clusterIP: 'None',
      selector: selectorLabels(cluster.name, 'proxy'),
      ports: [{ name: 'http', port: PROXY_HTTP_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** A prometheus-operator ServiceMonitor (monitoring.coreos.com/v1) for the proxies. */
export function buildProxyServiceMonitor(cluster: ResolvedCluster): KubeObject | undefined {
  const { serviceMonitor } = cluster.spec.monitoring;
  if (!serviceMonitor.enabled) return undefined;
  const meta = childMeta(cluster, proxyName(cluster.name), 'proxy');
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: {
      name: proxyName(cluster.name),
      namespace: cluster.namespace,
      labels: { ...meta.labels, ...serviceMonitor.labels },
      ownerReferences: [ownerReference(cluster)],
    },
    spec: {
      selector: { matchLabels: { ...selectorLabels(cluster.name, 'proxy'), [METRICS_LABEL]: 'true' } },
      endpoints: [{ port: 'http', path: '/metrics', interval: serviceMonitor.interval }],
    },
  };
}

import { describe, expect, it } from '@jest/globals';
import { parseProxyConfig } from '@shoal/proxy';
import { resolvedCluster } from '../test-support/clusters.js';
import { UnsupportedSpecError } from './errors.js';
import { buildProxyRole, buildProxyRoleBinding, buildProxyServiceAccount } from './proxy-access.js';
import { buildProxyConfigDocument, buildProxyConfigMap } from './proxy-config.js';
import { buildProxyDeployment } from './proxy-deployment.js';
import { buildProxyHorizontalPodAutoscaler, buildProxyPodDisruptionBudget } from './proxy-disruption.js';
import { buildProxyMetricsService, buildProxyServiceMonitor } from './proxy-monitoring.js';
import { buildMqttService } from './proxy-service.js';

const cluster = resolvedCluster();
const owner = { apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', name: 'demo', uid: 'uid-demo', controller: true, blockOwnerDeletion: true };
const selector = { 'app.kubernetes.io/name': 'shoal', 'app.kubernetes.io/instance': 'demo', 'app.kubernetes.io/component': 'proxy' };
const labels = { ...selector, 'app.kubernetes.io/part-of': 'shoal', 'app.kubernetes.io/managed-by': 'shoal-operator' };
const meta = (name: string): object => ({ name, namespace: 'mqtt', labels, ownerReferences: [owner] });

describe('proxy access', () => {
  it('gives the proxies a ServiceAccount without an automounted token', () => {
    expect(buildProxyServiceAccount(cluster)).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta('demo-proxy'),
      automountServiceAccountToken: false,
    });
  });

  it('lets the proxies read the ring ConfigMap and nothing else', () => {
    expect(buildProxyRole(cluster)).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta('demo-proxy'),
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['demo-ring'], verbs: ['get', 'list', 'watch'] }],
    });
    // with autoscaling, the proxies write their pod's deletion cost: patch on pods, nothing more
    const autoscaled = resolvedCluster({ proxy: { autoscaling: { enabled: true } } });
    expect(buildProxyRole(autoscaled).rules?.[1]).toEqual({ apiGroups: [''], resources: ['pods'], verbs: ['patch'] });
    expect(buildProxyConfigDocument(autoscaled).podDeletionCost).toEqual({ intervalMs: 30_000 });
    expect(buildProxyConfigDocument(cluster).podDeletionCost).toBeUndefined();
    expect(buildProxyRoleBinding(cluster)).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta('demo-proxy'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'demo-proxy' },
      subjects: [{ kind: 'ServiceAccount', name: 'demo-proxy', namespace: 'mqtt' }],
    });
  });
});

describe('buildMqttService', () => {
  it('exposes the MQTT port on a LoadBalancer by default', () => {
    expect(buildMqttService(cluster)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('demo-mqtt'),
      spec: {
        type: 'LoadBalancer',
        selector,
        ports: [{ name: 'mqtt', port: 1883, targetPort: 'mqtt', protocol: 'TCP' }],
        externalTrafficPolicy: 'Cluster',
      },
    });
  });

  it('carries annotations, traffic policy and source ranges', () => {
    const service = buildMqttService(
      resolvedCluster({
        proxy: {
          service: { annotations: { 'lb/type': 'nlb' }, externalTrafficPolicy: 'Local', loadBalancerSourceRanges: ['10.0.0.0/8'] },
          listeners: { websocket: { enabled: true, port: 80 } },
        },
      }),
    );
    expect(service.metadata?.annotations).toEqual({ 'lb/type': 'nlb' });
    expect(service.spec).toMatchObject({ externalTrafficPolicy: 'Local', loadBalancerSourceRanges: ['10.0.0.0/8'] });
    expect(service.spec?.ports?.map((p) => [p.name, p.port])).toEqual([
      ['mqtt', 1883],
      ['websocket', 80],
    ]);
  });

  it('sets no traffic policy on a ClusterIP Service', () => {
    expect(buildMqttService(resolvedCluster({ proxy: { service: { type: 'ClusterIP' } } })).spec).not.toHaveProperty('externalTrafficPolicy');
  });
});

describe('disruption budget and autoscaler', () => {
  it('limits voluntary disruptions to maxUnavailable proxies', () => {
    expect(buildProxyPodDisruptionBudget(cluster)).toEqual({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta('demo-proxy'),
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    });
  });

  it('has no HPA while autoscaling is off', () => {
    expect(buildProxyHorizontalPodAutoscaler(cluster)).toBeUndefined();
  });

  it('scales on the average shoal_proxy_connections per pod', () => {
    const hpa = buildProxyHorizontalPodAutoscaler(
      resolvedCluster({ proxy: { autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 40, targetConnectionsPerPod: 80_000 } } }),
    );
    expect(hpa).toEqual({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta('demo-proxy'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'demo-proxy' },
        minReplicas: 3,
        maxReplicas: 40,
        metrics: [
          {
            type: 'Pods',
            pods: { metric: { name: 'shoal_proxy_connections' }, target: { type: 'AverageValue', averageValue: '80000' } },
          },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 600, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] } },
      },
    });
  });
});

describe('proxy configuration', () => {
  it('renders a document the proxy itself accepts, with the retention converted to numbers', () => {
    const document = buildProxyConfigDocument(
      resolvedCluster({ shards: { replicas: 3 }, retention: { offlineMaxAge: '7d', maxBytesPerShard: '2Gi' }, proxy: { listeners: { websocket: { enabled: true } } } }),
    );
    expect(document).toEqual({
      listeners: { mqtt: { host: '0.0.0.0', port: 1883 }, websocket: { host: '0.0.0.0', port: 8083, path: '/mqtt' } },
      http: { host: '0.0.0.0', port: 9100 },
      ring: { configMap: { namespace: 'mqtt', name: 'demo-ring', key: 'ring.json' }, fallbackFile: '/etc/shoal/ring/ring.json' },
      sessions: { store: 'memory' },
      nats: { ensureStreams: false, messageMaxAgeSeconds: 604_800, messageMaxBytes: 2_147_483_648, streamReplicas: 3 },
      drain: { notReadyDelayMs: 5000, disconnectRatePerSecond: 1000, timeoutMs: 300_000 },
      logLevel: 'info',
    });
    expect(parseProxyConfig({ proxyId: 'demo-proxy-abc', ...document }).nats.streamReplicas).toBe(3);
  });

  it('renders the drain of the CR (rate, timeout, server reference) and a grace period that covers it', () => {
    const cluster = resolvedCluster({
      proxy: { drain: { notReadyDelaySeconds: 2, disconnectRatePerSecond: 250, timeoutSeconds: 60, serverReference: 'mqtt-b.example.com' } },
    });
    expect(buildProxyConfigDocument(cluster).drain).toEqual({
      notReadyDelayMs: 2000,
      disconnectRatePerSecond: 250,
      timeoutMs: 60_000,
      serverReference: 'mqtt-b.example.com',
    });
    expect(buildProxyDeployment(cluster).spec?.template.spec?.terminationGracePeriodSeconds).toBe(2 + 60 + 15);
  });

  it('stores the document as config.json', () => {
    const configMap = buildProxyConfigMap(cluster);
    expect(configMap.metadata).toEqual(meta('demo-proxy-config'));
    expect(JSON.parse(configMap.data?.['config.json'] ?? '')).toEqual(buildProxyConfigDocument(cluster));
  });

  it.each([
    ['the TLS listener', { proxy: { listeners: { tls: { enabled: true, secretName: 'tls' } } } }, 'proxy.listeners.tls'],
    ['Redis sessions', { sessions: { redis: { url: 'redis://redis:6379' } } }, 'sessions.redis'],
  ])('refuses %s, which the proxy does not implement yet', (_name, spec, field) => {
    expect(() => buildProxyConfigDocument(resolvedCluster(spec))).toThrow(UnsupportedSpecError);
    expect(() => buildProxyConfigDocument(resolvedCluster(spec))).toThrow(expect.objectContaining({ field }));
  });
});

describe('monitoring', () => {
  it('builds nothing unless the ServiceMonitor is enabled', () => {
    expect(buildProxyMetricsService(cluster)).toBeUndefined();
    expect(buildProxyServiceMonitor(cluster)).toBeUndefined();
  });

  it('scrapes the proxies through a headless metrics Service, never through X-mqtt', () => {
    const monitored = resolvedCluster({ monitoring: { serviceMonitor: { enabled: true, labels: { release: 'prom' } } } });
    expect(buildProxyMetricsService(monitored)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { ...meta('demo-proxy-metrics'), labels: { ...labels, 'shoal.dev/metrics': 'true' } },
      spec: { clusterIP: 'None', selector, ports: [{ name: 'http', port: 9100, targetPort: 'http', protocol: 'TCP' }] },
    });
    expect(buildProxyServiceMonitor(monitored)).toEqual({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { ...meta('demo-proxy'), labels: { ...labels, release: 'prom' } },
      spec: {
        selector: { matchLabels: { ...selector, 'shoal.dev/metrics': 'true' } },
        endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }],
      },
    });
  });
});

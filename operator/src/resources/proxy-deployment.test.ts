import { describe, expect, it } from '@jest/globals';
import { resolvedCluster } from '../test-support/clusters.js';
import { buildProxyDeployment } from './proxy-deployment.js';
import { proxyConfigHash } from './proxy-config.js';

const owner = { apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', name: 'demo', uid: 'uid-demo', controller: true, blockOwnerDeletion: true };
const selector = { 'app.kubernetes.io/name': 'shoal', 'app.kubernetes.io/instance': 'demo', 'app.kubernetes.io/component': 'proxy' };

describe('buildProxyDeployment', () => {
  it('builds the hardened proxy Deployment of a default cluster', () => {
    const cluster = resolvedCluster();
    expect(buildProxyDeployment(cluster)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'demo-proxy',
        namespace: 'mqtt',
        labels: { ...selector, 'app.kubernetes.io/part-of': 'shoal', 'app.kubernetes.io/managed-by': 'shoal-operator' },
        ownerReferences: [owner],
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: {
          metadata: { labels: selector, annotations: { 'shoal.dev/config-hash': proxyConfigHash(cluster) } },
          spec: {
            serviceAccountName: 'demo-proxy',
            automountServiceAccountToken: true,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 320,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              runAsGroup: 1000,
              fsGroup: 1000,
              fsGroupChangePolicy: 'OnRootMismatch',
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'proxy',
                image: 'shoal/proxy:test',
                imagePullPolicy: 'IfNotPresent',
                env: [
                  { name: 'SHOAL_PROXY_CONFIG', value: '/etc/shoal/proxy/config.json' },
                  { name: 'SHOAL_PROXY_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ],
                ports: [
                  { name: 'mqtt', containerPort: 1883, protocol: 'TCP' },
                  { name: 'http', containerPort: 9100, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 2 },
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
                resources: { requests: { cpu: '500m', memory: '512Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/shoal/proxy', readOnly: true },
                  { name: 'ring', mountPath: '/etc/shoal/ring', readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: 'demo-proxy-config' } },
              { name: 'ring', configMap: { name: 'demo-ring' } },
              { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ],
          },
        },
      },
    });
  });

  it('leaves replicas out when autoscaling is on, so the HPA owns them', () => {
    const deployment = buildProxyDeployment(resolvedCluster({ proxy: { replicas: 7, autoscaling: { enabled: true } } }));
    expect(deployment.spec).not.toHaveProperty('replicas');
  });

  it('mounts the auth Secret and ACL ConfigMap, opens the WebSocket port and copies the placement', () => {
    const cluster = resolvedCluster({
      auth: { secretName: 'creds', usersFileKey: 'users' },
      acl: { configMapName: 'rules' },
      proxy: {
        image: 'registry.example/proxy:1',
        listeners: { websocket: { enabled: true } },
        placement: { nodeSelector: { pool: 'mqtt' }, tolerations: [{ key: 'mqtt', operator: 'Exists' }] },
      },
    });
    const pod = buildProxyDeployment(cluster).spec?.template.spec;
    expect(pod?.nodeSelector).toEqual({ pool: 'mqtt' });
    expect(pod?.tolerations).toEqual([{ key: 'mqtt', operator: 'Exists' }]);
    expect(pod?.volumes?.slice(3)).toEqual([
      { name: 'auth', secret: { secretName: 'creds' } },
      { name: 'acl', configMap: { name: 'rules' } },
    ]);
    const container = pod?.containers[0];
    expect(container?.image).toBe('registry.example/proxy:1');
    expect(container?.ports?.map((p) => p.name)).toEqual(['mqtt', 'websocket', 'http']);
    expect(container?.volumeMounts?.slice(3)).toEqual([
      { name: 'auth', mountPath: '/etc/shoal/auth', readOnly: true },
      { name: 'acl', mountPath: '/etc/shoal/acl', readOnly: true },
    ]);
  });

  it('changes the pod template hash when the proxy configuration changes, and only then', () => {
    const hash = (spec: object): string | undefined =>
      buildProxyDeployment(resolvedCluster(spec)).spec?.template.metadata?.annotations?.['shoal.dev/config-hash'];
    expect(hash({})).toBe(hash({ proxy: { replicas: 9 } }));
    expect(hash({})).not.toBe(hash({ retention: { offlineMaxAge: '1h' } }));
  });
});

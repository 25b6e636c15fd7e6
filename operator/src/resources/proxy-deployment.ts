// `X-proxy`: the proxy Deployment (stateless; its replicas belong to the HPA when autoscaling is on).
import type { V1Container, V1Deployment, V1Volume, V1VolumeMount } from './kube-types.js';
import { selectorLabels } from './labels.js';
import { CONFIG_HASH_ANNOTATION, PROXY_CONFIG_KEY, proxyConfigName, proxyName, ringName } from './names.js';
import { placement, resources } from './pod-placement.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security.js';
import { ACL_DIR, AUTH_DIR } from './proxy-auth-config.js';
import { PROXY_CONFIG_DIR, PROXY_HTTP_PORT, RING_DIR, proxyConfigHash } from './proxy-config.js';
import { childMeta, type ResolvedCluster } from './resolved-cluster.js';

/** Where a referenced auth Secret and ACL ConfigMap are mounted (defined with the configuration that names them). */
export { ACL_DIR, AUTH_DIR };

/**
 * Seconds a stopping proxy gets beyond its not-ready delay and drain timeout to close cleanly: the wait for
 * in-flight QoS 1/2 stores and session writes (JetStream publish timeout 5 s + 1 s) and the shard connections.
 */
const SHUTDOWN_MARGIN_SECONDS = 15;

function volumes(cluster: ResolvedCluster): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const { auth, acl } = cluster.spec;
  const list: V1Volume[] = [
    { name: 'config', configMap: { name: proxyConfigName(cluster.name) } },
    { name: 'ring', configMap: { name: ringName(cluster.name) } },
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'config', mountPath: PROXY_CONFIG_DIR, readOnly: true },
    { name: 'ring', mountPath: RING_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (auth !== undefined) {
    list.push({ name: 'auth', secret: { secretName: auth.secretName } });
    mounts.push({ name: 'auth', mountPath: AUTH_DIR, readOnly: true });
  }
  if (acl !== undefined) {
    list.push({ name: 'acl', configMap: { name: acl.configMapName } });
    mounts.push({ name: 'acl', mountPath: ACL_DIR, readOnly: true });
  }
  return { volumes: list, mounts };
}

function proxyContainer(cluster: ResolvedCluster, mounts: V1VolumeMount[]): V1Container {
  const { proxy } = cluster.spec;
  const { mqtt, websocket } = proxy.listeners;
  return {
    name: 'proxy',
    image: proxy.image ?? cluster.images.proxy,
    imagePullPolicy: 'IfNotPresent',
    env: [
      { name: 'SHOAL_PROXY_CONFIG', value: `${PROXY_CONFIG_DIR}/${PROXY_CONFIG_KEY}` },
      { name: 'SHOAL_PROXY_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ],
    ports: [
      ...(mqtt.enabled ? [{ name: 'mqtt', containerPort: mqtt.port, protocol: 'TCP' }] : []),
      ...(websocket.enabled ? [{ name: 'websocket', containerPort: websocket.port, protocol: 'TCP' }] : []),
      { name: 'http', containerPort: PROXY_HTTP_PORT, protocol: 'TCP' },
    ],
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
    resources: resources(proxy.resources),
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: mounts,
  };
}

/**
 * The proxy Deployment. `spec.replicas` is left out when autoscaling is on, so that server-side apply
 * does not take the field back from the HorizontalPodAutoscaler.
 */
export function buildProxyDeployment(cluster: ResolvedCluster): V1Deployment {
  const { proxy } = cluster.spec;
  const labels = selectorLabels(cluster.name, 'proxy');
  const { volumes: podVolumes, mounts } = volumes(cluster);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cluster, proxyName(cluster.name), 'proxy'),
    spec: {
      ...(proxy.autoscaling.enabled ? {} : { replicas: proxy.replicas }),
      selector: { matchLabels: labels },
      // New proxies first, then old ones drain: devices reconnect to a proxy that is already up.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels: { ...labels }, annotations: { [CONFIG_HASH_ANNOTATION]: proxyConfigHash(cluster) } },
        spec: {
          serviceAccountName: proxyName(cluster.name),
          // The proxy watches the ring ConfigMap through the API server with this token; its Role grants only
          // get/list/watch of that one ConfigMap (the mounted file is the fallback).
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: proxy.drain.notReadyDelaySeconds + proxy.drain.timeoutSeconds + SHUTDOWN_MARGIN_SECONDS,
          securityContext: restrictedPodSecurityContext(),
          containers: [proxyContainer(cluster, mounts)],
          volumes: podVolumes,
          ...placement(proxy.placement),
        },
      },
    },
  };
}

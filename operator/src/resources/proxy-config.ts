// `X-proxy-config`: the proxy's configuration document, validated with the proxy's own schema.
import { createHash } from 'node:crypto';
import type { V1ConfigMap } from './kube-types.js';
import { ProxyConfig, type ProxyConfigInput } from '@shoal/proxy';
import { z } from 'zod';
import { durationToSeconds, quantityToBytes } from '../api/v1alpha1/quantity.js';
import { RenderError, UnsupportedSpecError } from './errors.js';
import { PROXY_CONFIG_KEY, RING_KEY, proxyConfigName, ringName } from './names.js';
import { buildProxyAuth, listenerAuth } from './proxy-auth-config.js';
import { childMeta, type ResolvedCluster } from './resolved-cluster.js';

/** Where the proxy pod mounts `X-proxy-config`. */
export const PROXY_CONFIG_DIR = '/etc/shoal/proxy';
/** Where the proxy pod mounts `X-ring`. */
export const RING_DIR = '/etc/shoal/ring';
/** Port of the proxy's `/metrics`, `/healthz` and `/readyz`. */
export const PROXY_HTTP_PORT = 9100;

/** The document without `proxyId`, which each pod sets from its name (SHOAL_PROXY_ID). */
export type ProxyConfigDocument = Omit<ProxyConfigInput, 'proxyId'>;

const DocumentSchema = ProxyConfig.omit({ proxyId: true });

/** The proxy configuration for a cluster; throws UnsupportedSpecError for what the proxy cannot do yet. */
export function buildProxyConfigDocument(cluster: ResolvedCluster): ProxyConfigDocument {
  const { proxy, shards, retention, sessions } = cluster.spec;
  if (proxy.listeners.tls.enabled) {
    throw new UnsupportedSpecError('proxy.listeners.tls', 'the proxy has no TLS listener yet; disable proxy.listeners.tls');
  }
  if (sessions.redis !== undefined) {
    throw new UnsupportedSpecError('sessions.redis', 'the proxy keeps sessions in memory only so far; remove sessions.redis');
  }
  const { mqtt, websocket } = proxy.listeners;
  const auth = buildProxyAuth(cluster);
  const document: ProxyConfigDocument = {
    listeners: {
      ...(mqtt.enabled ? { mqtt: { host: '0.0.0.0', port: mqtt.port, ...listenerAuth(cluster) } } : {}),
      ...(websocket.enabled ? { websocket: { host: '0.0.0.0', port: websocket.port, path: websocket.path, ...listenerAuth(cluster) } } : {}),
    },
    http: { host: '0.0.0.0', port: PROXY_HTTP_PORT },
    // Watched through the API server (a change reaches the proxies in about a second) with the pod's
    // ServiceAccount token; a pod without a token follows the mounted copy (the kubelet refreshes it
    // within about a minute), which also serves a proxy that starts while the API server is unreachable.
    ring: {
      configMap: { namespace: cluster.namespace, name: ringName(cluster.name), key: RING_KEY },
      fallbackFile: `${RING_DIR}/${RING_KEY}`,
    },
    sessions: { store: 'memory' },
    nats: {
      // The operator ensures the streams (step EnsureStreams); the proxies only use them. The retention
      // below is then informational for the proxy.
      ensureStreams: false,
      messageMaxAgeSeconds: durationToSeconds(retention.offlineMaxAge),
      messageMaxBytes: quantityToBytes(retention.maxBytesPerShard),
      streamReplicas: shards.replicas,
    },
    drain: {
      notReadyDelayMs: proxy.drain.notReadyDelaySeconds * 1000,
      disconnectRatePerSecond: proxy.drain.disconnectRatePerSecond,
      timeoutMs: proxy.drain.timeoutSeconds * 1000,
      ...(proxy.drain.serverReference === undefined ? {} : { serverReference: proxy.drain.serverReference }),
    },
    // with an HPA, each proxy keeps its pod's deletion cost at its connection count: scale-down removes the emptiest
    ...(proxy.autoscaling.enabled ? { podDeletionCost: { intervalMs: 30_000 } } : {}),
    logLevel: 'info',
    ...(auth === undefined ? {} : { auth }),
  };
  const checked = DocumentSchema.safeParse(document);
  if (!checked.success) throw new RenderError(`rendered proxy configuration is invalid:\n${z.prettifyError(checked.error)}`);
  return document;
}

/** The configuration as stored in the ConfigMap (stable formatting, so equal documents are equal text). */
export function renderProxyConfig(cluster: ResolvedCluster): string {
  return `${JSON.stringify(buildProxyConfigDocument(cluster), null, 2)}\n`;
}

/** Short hash of the rendered configuration; the Deployment's pod template carries it to roll on change. */
export function proxyConfigHash(cluster: ResolvedCluster): string {
  return createHash('sha256').update(renderProxyConfig(cluster)).digest('hex').slice(0, 16);
}

/** The ConfigMap `X-proxy-config`. */
export function buildProxyConfigMap(cluster: ResolvedCluster): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(cluster, proxyConfigName(cluster.name), 'proxy'),
    data: { [PROXY_CONFIG_KEY]: renderProxyConfig(cluster) },
  };
}

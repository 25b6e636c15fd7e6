// The only module that reads process.env. Loads the JSON configuration document named by
// SHOAL_PROXY_CONFIG and validates it once.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { undefinedChains } from './auth-schema.js';
import { ProxyConfig, type ApiServerConfig, type RingSourceConfig } from './schema.js';

/** Where Kubernetes mounts a pod's ServiceAccount token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A pod's own way to the API server. */
export interface InClusterAccess {
  readonly apiServer: ApiServerConfig;
  /** The pod's namespace, when the ServiceAccount mount says. */
  readonly namespace?: string;
}

/** Validates a configuration document; throws ConfigError with every problem spelled out. */
export function parseProxyConfig(document: unknown): ProxyConfig {
  const result = ProxyConfig.safeParse(document);
  if (!result.success) {
    throw new ConfigError(`invalid proxy configuration:\n${z.prettifyError(result.error)}`);
  }
  const missing = undefinedChains(result.data);
  if (missing.length > 0) throw new ConfigError(`invalid proxy configuration:\n${missing.map((m) => `✖ ${m}`).join('\n')}`);
  return result.data;
}

/**
 * The pod's access to the API server: KUBERNETES_SERVICE_HOST/PORT and the mounted ServiceAccount token.
 * Undefined outside a pod, and in a pod without a token (`automountServiceAccountToken: false`).
 */
export function inClusterAccess(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): InClusterAccess | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  const tokenFile = join(dir, 'token');
  if (host === undefined || host === '' || port === undefined || port === '' || !existsSync(tokenFile)) return undefined;
  const caFile = join(dir, 'ca.crt');
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim();
  } catch {
    namespace = undefined;
  }
  return {
    apiServer: { url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, tokenFile, ...(existsSync(caFile) ? { caFile } : {}) },
    ...(namespace === undefined || namespace === '' ? {} : { namespace }),
  };
}

/**
 * Completes a ConfigMap ring source with the pod's API server and namespace where the document names none.
 * Without either (no token mounted) the fallback file is followed instead; without one, ConfigError.
 */
export function resolveRingSource(ring: RingSourceConfig, inCluster: InClusterAccess | undefined): RingSourceConfig {
  if ('file' in ring) return ring;
  const apiServer = ring.apiServer ?? inCluster?.apiServer;
  if (apiServer === undefined) {
    if (ring.fallbackFile !== undefined) return { file: ring.fallbackFile };
    throw new ConfigError(
      'ring.configMap: no API server to read it from (ring.apiServer is not set, and this is not a pod with a ServiceAccount token); set ring.apiServer or ring.fallbackFile',
    );
  }
  const namespace = ring.configMap.namespace ?? inCluster?.namespace;
  if (namespace === undefined) throw new ConfigError('ring.configMap.namespace is required outside a pod');
  return { ...ring, apiServer, configMap: { ...ring.configMap, namespace } };
}

/**
 * Reads the configuration named by the environment: SHOAL_PROXY_CONFIG (file); SHOAL_PROXY_ID and
 * SHOAL_LOG_LEVEL override the file's `proxyId` and `logLevel`; a ConfigMap ring source gets the pod's
 * in-cluster access (resolveRingSource).
 */
export function loadProxyConfig(env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const path = env['SHOAL_PROXY_CONFIG'];
  if (path === undefined || path === '') {
    throw new ConfigError('SHOAL_PROXY_CONFIG must name the proxy configuration file (JSON)');
  }
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err: unknown) {
    throw new ConfigError(`cannot read proxy configuration ${path}`, { cause: err });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ConfigError(`proxy configuration ${path} must hold a JSON object`);
  }
  const withId = { proxyId: env['SHOAL_PROXY_ID'] ?? hostname(), ...document } as Record<string, unknown>;
  if (env['SHOAL_PROXY_ID'] !== undefined) withId['proxyId'] = env['SHOAL_PROXY_ID'];
  if (env['SHOAL_LOG_LEVEL'] !== undefined) withId['logLevel'] = env['SHOAL_LOG_LEVEL'];
  const config = parseProxyConfig(withId);
  if ('file' in config.ring) return config;
  return { ...config, ring: resolveRingSource(config.ring, inClusterAccess(env)) };
}

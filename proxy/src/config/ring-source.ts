// Chooses where the proxy's ring comes from: a file, or the ConfigMap through the API server.
import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import type { RingDocument } from '../routing/ring-document.js';
import { RingConfigMapSource } from './ring-configmap-source.js';
import { RingFileSource } from './ring-file-source.js';
import type { RingSourceConfig } from './schema.js';

/** Loads the ring, then follows it: `onRing` gets each new document; `close()` stops following. */
export interface RingSource {
  /** Loads the ring once and starts following it; rejects while there is no valid ring (retry later). */
  start(): Promise<RingDocument>;
  close(): void;
  /** Where the ring comes from (for logs). */
  readonly description: string;
}

export interface RingSourceDeps {
  readonly log: Logger;
  readonly onRing: (ring: RingDocument) => void;
}

/**
 * The ring source a configuration names. A ConfigMap source needs its API server and namespace, which
 * loadProxyConfig fills in from the pod (or replaces by the fallback file when the pod has no credentials).
 */
export function createRingSource(config: RingSourceConfig, deps: RingSourceDeps): RingSource {
  if ('file' in config) return new RingFileSource({ path: config.file, ...deps });
  const { apiServer, configMap, fallbackFile } = config;
  if (apiServer === undefined || configMap.namespace === undefined) {
    throw new ConfigError('ring.configMap needs ring.apiServer and ring.configMap.namespace outside a pod');
  }
  return new RingConfigMapSource({
    apiServer,
    namespace: configMap.namespace,
    name: configMap.name,
    key: configMap.key,
    ...(fallbackFile === undefined ? {} : { fallbackFile }),
    ...deps,
  });
}

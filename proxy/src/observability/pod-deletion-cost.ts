// Keeps `controller.kubernetes.io/pod-deletion-cost` of this proxy's pod at its open connection count. When the
// HorizontalPodAutoscaler scales the proxies down, the ReplicaSet controller deletes the pods with the lowest
// cost first: the emptiest proxy goes, and the fewest clients have to reconnect.
//
// Why the proxy writes it (not the operator): the proxy knows its count at every moment and already talks to the
// API server with its own ServiceAccount; the operator would have to scrape every proxy pod's /metrics over the
// network. Kubernetes asks not to update the annotation at a metric's pace (each write is a pod update every
// watcher of pods receives), so the count is compared every `intervalMs` and written only when it moved by at
// least 10% (or from/to zero).
import type { Logger } from 'pino';
import { ApiServerClient } from '../config/api-server-client.js';
import type { ApiServerConfig, ProxyConfig } from '../config/schema.js';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/** Whether the annotation should change from `written` to `now` (see the file comment). */
export function worthWriting(written: number | undefined, now: number): boolean {
  if (written === undefined) return true;
  if (written === now) return false;
  return Math.abs(now - written) >= Math.max(1, 0.1 * Math.max(now, written));
}

export interface PodDeletionCostOptions {
  readonly apiServer: ApiServerConfig;
  readonly namespace: string;
  readonly podName: string;
  readonly intervalMs: number;
  /** The current connection count. */
  readonly connections: () => number;
  readonly log: Logger;
}

/** Writes the annotation now and then every `intervalMs` when worth it; `close()` stops. */
export class PodDeletionCost {
  private readonly client: ApiServerClient;
  private readonly path: string;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private written: number | undefined;
  private running = false;

  constructor(private readonly options: PodDeletionCostOptions) {
    this.client = new ApiServerClient(options.apiServer);
    this.path = `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods/${encodeURIComponent(options.podName)}`;
  }

  /** Where it writes (for the start log line). */
  get description(): string {
    return `pod ${this.options.namespace}/${this.options.podName} via ${this.client.server}`;
  }

  start(): void {
    this.timer = setInterval(() => void this.update(), this.options.intervalMs);
    this.timer.unref();
    void this.update();
  }

  close(): void {
    clearInterval(this.timer);
    this.abort.abort();
  }

  private closed(): boolean {
    return this.abort.signal.aborted;
  }

  private async update(): Promise<void> {
    const now = this.options.connections();
    if (this.running || this.closed() || !worthWriting(this.written, now)) return;
    this.running = true;
    try {
      const patch = { metadata: { annotations: { [POD_DELETION_COST_ANNOTATION]: String(now) } } };
      await this.client.mergePatch(this.path, patch, { signal: this.abort.signal, idleTimeoutMs: 10_000 });
      this.written = now;
    } catch (err: unknown) {
      if (!this.closed()) this.options.log.warn({ err, pod: this.options.podName }, 'pod deletion cost not written');
    } finally {
      this.running = false;
    }
  }
}

/**
 * The updater a configuration asks for (`podDeletionCost`), completed with the ring's API server and namespace;
 * undefined when it is not configured, or (logged) when no API server or namespace is known.
 */
export function podDeletionCostFor(config: ProxyConfig, connections: () => number, log: Logger): PodDeletionCost | undefined {
  const settings = config.podDeletionCost;
  if (settings === undefined) return undefined;
  const ring = 'configMap' in config.ring ? config.ring : undefined;
  const apiServer = settings.apiServer ?? ring?.apiServer;
  const namespace = settings.namespace ?? ring?.configMap.namespace;
  if (apiServer === undefined || namespace === undefined) {
    log.warn('podDeletionCost needs an API server and a namespace (its own, or the ring ConfigMap\'s); not written');
    return undefined;
  }
  return new PodDeletionCost({ apiServer, namespace, podName: settings.podName ?? config.proxyId, intervalMs: settings.intervalMs, connections, log });
}

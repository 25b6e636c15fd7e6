// A WatchSource on client-node's informer (list, then watch from the list's resourceVersion; 410 → relist).
// client-node stops an informer on any other error; this restarts it with backoff.
import { makeInformer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { WatchSource } from '../controller/controller.js';
import type { ClientNodeKubeClient } from './client-node-kube-client.js';
import type { KubeObject, TypeRef } from './kube-object.js';
import { collectionPath } from './resource-paths.js';

export interface InformerWatchOptions {
  readonly config: KubeConfig;
  readonly client: ClientNodeKubeClient;
  readonly type: TypeRef;
  /** '' for all namespaces. */
  readonly namespace: string;
  readonly labelSelector?: string;
  readonly toKey: (obj: KubeObject) => string | undefined;
  readonly log: Logger;
  readonly onRestart?: () => void;
}

const MAX_RESTART_DELAY_MS = 30_000;

export class InformerWatch implements WatchSource {
  readonly kind: string;
  readonly toKey: (obj: KubeObject) => string | undefined;
  private informer: ReturnType<typeof makeInformer> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly options: InformerWatchOptions) {
    this.kind = options.type.kind;
    this.toKey = options.toKey;
  }

  async start(onObject: (obj: KubeObject) => void): Promise<void> {
    const { config, client, type, namespace, labelSelector, log } = this.options;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> =>
      (await client.listRaw(type, namespace, labelSelector)) as unknown as KubernetesListObject<KubernetesObject>;
    const informer = makeInformer(config, collectionPath(type, namespace), list, labelSelector);
    // Watch events carry apiVersion and kind; list items get them from listRaw.
    const deliver = (obj: KubernetesObject): void => {
      this.failures = 0;
      onObject(obj as unknown as KubeObject);
    };
    informer.on('add', deliver);
    informer.on('update', deliver);
    informer.on('delete', deliver);
    informer.on('error', (err: unknown) => {
      if (this.closed) return;
      this.failures += 1;
      const delayMs = Math.min(1000 * 2 ** (this.failures - 1), MAX_RESTART_DELAY_MS);
      log.warn({ err, kind: type.kind, retryInMs: delayMs }, 'Watch failed; restarting');
      this.options.onRestart?.();
      this.restartTimer = setTimeout(() => {
        if (!this.closed) informer.start().catch((e: unknown) => log.warn({ err: e, kind: type.kind }, 'Watch restart failed'));
      }, delayMs);
    });
    this.informer = informer;
    await informer.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    await this.informer?.stop();
  }
}

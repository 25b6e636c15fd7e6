// Wires watches to the work queue and runs workers that reconcile one key at a time each.
import type { Logger } from 'pino';
import type { KubeObject } from '../kube/kube-object.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import type { ReconcileResult } from './mqttcluster-reconciler.js';
import type { WorkQueue } from './work-queue.js';

/** A stream of changed objects of one kind (an informer); `toKey` maps them to MqttCluster keys. */
export interface WatchSource {
  readonly kind: string;
  readonly toKey: (obj: KubeObject) => string | undefined;
  /** Starts listing and watching; resolves once the first list was delivered. */
  start(onObject: (obj: KubeObject) => void): Promise<void>;
  close(): Promise<void>;
}

export interface ControllerDeps {
  readonly queue: WorkQueue;
  readonly reconcile: (key: string) => Promise<ReconcileResult>;
  readonly sources: readonly WatchSource[];
  readonly workers: number;
  readonly log: Logger;
  readonly metrics: OperatorMetrics;
}

export class Controller {
  private readonly running: Promise<void>[] = [];
  private started = false;

  constructor(private readonly deps: ControllerDeps) {}

  /** Starts the watches (each event queues its cluster's key) and the workers. */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all(
      this.deps.sources.map((source) =>
        source.start((obj) => {
          const key = source.toKey(obj);
          if (key !== undefined) this.deps.queue.add(key);
        }),
      ),
    );
    for (let i = 0; i < this.deps.workers; i += 1) this.running.push(this.work());
    this.deps.log.info({ workers: this.deps.workers, watches: this.deps.sources.map((s) => s.kind) }, 'Started controller');
  }

  /** Whether the watches have started (readiness). */
  get isStarted(): boolean {
    return this.started;
  }

  /** Stops the watches, lets the workers finish their current key, and resolves when they have. */
  async close(): Promise<void> {
    await Promise.all(this.deps.sources.map((source) => source.close()));
    this.deps.queue.shutdown();
    await Promise.all(this.running);
  }

  private async work(): Promise<void> {
    for (let key = await this.deps.queue.take(); key !== undefined; key = await this.deps.queue.take()) {
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const { queue, metrics, log } = this.deps;
    const stop = metrics.reconcileSeconds.startTimer();
    try {
      const result = await this.deps.reconcile(key);
      queue.forget(key);
      if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      metrics.reconcileTotal.inc({ result: 'success' });
    } catch (err: unknown) {
      const delayMs = queue.retry(key);
      metrics.reconcileTotal.inc({ result: 'error' });
      log.warn({ err, mqttCluster: key, retryInMs: delayMs }, 'Requeued MqttCluster after a failed reconcile');
    } finally {
      stop();
      queue.done(key);
    }
  }
}

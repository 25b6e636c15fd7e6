// Reconciles one MqttCluster key: re-reads the object, runs the named steps in order, then computes the
// status once and writes it only when it changed. Level-triggered: the same pass whatever event queued it.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { API_VERSION, KIND } from '../api/v1alpha1/group-version.js';
import type { MqttCluster } from '../api/v1alpha1/mqttcluster.js';
import { InvalidSpecError, parseMqttClusterSpec } from '../api/v1alpha1/mqttcluster-spec.js';
import type { Clock } from '../clock.js';
import { isNotFound } from '../kube/errors.js';
import type { KubeClient } from '../kube/kube-client.js';
import { RenderError, UnsupportedSpecError } from '../resources/errors.js';
import { selectorLabels, selectorString } from '../resources/labels.js';
import { FIELD_MANAGER } from '../resources/names.js';
import type { DefaultImages, ResolvedCluster } from '../resources/resolved-cluster.js';
import { RingUnreadableError } from '../resources/ring-configmap.js';
import { isoSeconds } from '../resources/ring-plan.js';
import { computeStatus, type PassFailure } from './cluster-status.js';
import type { EventRecorder } from './event-recorder.js';
import { StepFailedError, type ReconcileContext, type ReconcileStep } from './reconcile-context.js';
import type { RetainedCopier } from './retained-copier.js';
import type { StreamEnsurer } from './stream-ensurer.js';
import { applyProxy } from './steps/proxy.js';
import { pruneObjects } from './steps/prune.js';
import { observeRing, publishRing } from './steps/ring.js';
import { applyShards } from './steps/shards.js';
import { copyRetained } from './steps/retained.js';
import { ensureShardStreams } from './steps/streams.js';

/**
 * The steps of a pass, in order: shards before the ring that routes to them, proxies after it; the
 * streams last, so an unreachable shard holds up nothing else.
 */
export const RECONCILE_STEPS: readonly ReconcileStep[] = [observeRing, applyShards, publishRing, applyProxy, pruneObjects, ensureShardStreams, copyRetained];

/** What the caller does next with the key. */
export interface ReconcileResult {
  /** Queue the key again after this many milliseconds. */
  readonly requeueAfterMs?: number;
}

/** A pass failed in a way retrying may fix; the queue retries with backoff. `Degraded` already says why. */
export class ReconcileError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ReconcileError';
  }
}

export interface ReconcilerDeps {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly events: EventRecorder;
  readonly images: DefaultImages;
  /** Ensures the JetStream streams on ready shards. */
  readonly streams: StreamEnsurer;
  /** Copies the retained messages of moved topics during a ring transition (steps/retained.ts). */
  readonly retained?: RetainedCopier;
  /** `<namespace>/<cluster>/<shardId>` → URL (SHOAL_SHARD_URL_OVERRIDES); none by default. */
  readonly shardUrlOverrides?: ReadonlyMap<string, string>;
  readonly steps?: readonly ReconcileStep[];
}

/** Errors that retrying cannot fix: the spec or the ring must change first (both are watched). */
function terminalReason(err: unknown): string | undefined {
  if (err instanceof InvalidSpecError) return 'InvalidSpec';
  if (err instanceof UnsupportedSpecError) return 'UnsupportedSpec';
  if (err instanceof RingUnreadableError) return 'RingUnreadable';
  if (err instanceof RenderError) return 'RenderFailed';
  return undefined;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const asReconcileError = (err: unknown): ReconcileError =>
  err instanceof ReconcileError ? err : new ReconcileError('ReconcileFailed', messageOf(err), { cause: err });

/** Runs one step; a retryable error is wrapped so its reason names the step (`ApplyShardsFailed`). */
async function runStep(step: ReconcileStep, ctx: ReconcileContext): Promise<void> {
  try {
    await step.run(ctx);
  } catch (err: unknown) {
    if (err instanceof StepFailedError) throw new ReconcileError(err.reason, err.message, { cause: err });
    throw terminalReason(err) === undefined ? new ReconcileError(`${step.name}Failed`, messageOf(err), { cause: err }) : err;
  }
}

interface PassOutcome {
  readonly ctx: Omit<ReconcileContext, 'resolved'>;
  readonly failure: PassFailure | undefined;
  readonly retry: ReconcileError | undefined;
}

export class MqttClusterReconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  /** One pass for `namespace/name`. Throws ReconcileError when the key should be retried with backoff. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const cluster = (await this.deps.kube.get({ apiVersion: API_VERSION, kind: KIND, namespace, name })) as MqttCluster | undefined;
    // Gone or going: the children carry owner references, so garbage collection removes them.
    if (cluster === undefined || cluster.metadata.deletionTimestamp !== undefined) return {};
    const log = this.deps.log.child({ mqttCluster: key });
    const pass = await this.runSteps(cluster, log);
    await this.writeStatus(cluster, pass.ctx, pass.failure);
    for (const event of pass.ctx.events) await this.deps.events.record(cluster, event);
    if (pass.retry !== undefined) throw pass.retry;
    return pass.ctx.requeueAfterMs === undefined ? {} : { requeueAfterMs: pass.ctx.requeueAfterMs };
  }

  /** Runs the steps; a failure stops them and is returned (with the error to retry, unless terminal). */
  private async runSteps(cluster: MqttCluster, log: Logger): Promise<PassOutcome> {
    const base = this.newContext(cluster, log, this.deps.clock.now());
    let ctx: Omit<ReconcileContext, 'resolved'> = base;
    try {
      const full: ReconcileContext = { ...base, resolved: this.resolve(cluster) };
      ctx = full;
      for (const step of this.deps.steps ?? RECONCILE_STEPS) await runStep(step, full);
      return { ctx, failure: undefined, retry: undefined };
    } catch (err: unknown) {
      const terminal = terminalReason(err);
      const retry = terminal === undefined ? asReconcileError(err) : undefined;
      const failure = { reason: terminal ?? retry?.reason ?? 'ReconcileFailed', message: messageOf(err) };
      // A spec the operator cannot build is the user's to fix (warn); anything else is retried (error).
      if (retry === undefined) log.warn({ reason: failure.reason, message: failure.message }, 'Cannot reconcile MqttCluster until its spec changes');
      else log.error({ err, reason: failure.reason }, 'Failed to reconcile MqttCluster');
      ctx.events.push({ type: 'Warning', reason: failure.reason, message: failure.message });
      return { ctx, failure, retry };
    }
  }

  private resolve(cluster: MqttCluster): ResolvedCluster {
    const { name, namespace, uid } = cluster.metadata;
    return { name, namespace, uid, spec: parseMqttClusterSpec(cluster.spec), images: this.deps.images };
  }

  /** A context whose `resolved` is filled in once the spec parsed. */
  private newContext(cluster: MqttCluster, log: Logger, now: number): Omit<ReconcileContext, 'resolved'> {
    const { kube, streams, retained } = this.deps;
    const shardUrlOverrides = this.deps.shardUrlOverrides ?? new Map<string, string>();
    return { kube, streams, retained, shardUrlOverrides, log, cluster, now, ring: undefined, ringHold: undefined, shards: [], proxy: undefined, applied: new Set(), events: [], requeueAfterMs: undefined };
  }

  private async writeStatus(cluster: MqttCluster, ctx: Omit<ReconcileContext, 'resolved'>, failure: PassFailure | undefined): Promise<void> {
    const status = computeStatus({
      generation: cluster.metadata.generation ?? 0,
      previous: cluster.status,
      now: isoSeconds(ctx.now),
      selector: selectorString(selectorLabels(cluster.metadata.name, 'proxy')),
      proxy: ctx.proxy,
      shards: ctx.shards,
      ring: ctx.ring,
      ringHold: ctx.ringHold,
      failure,
    });
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(status)), cluster.status ?? {})) return;
    const { name, namespace } = cluster.metadata;
    try {
      await this.deps.kube.applyStatus({ apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, status });
    } catch (err: unknown) {
      if (isNotFound(err)) return; // deleted meanwhile
      throw new ReconcileError('StatusWriteFailed', messageOf(err), { cause: err });
    }
    ctx.log.debug({ fieldManager: FIELD_MANAGER }, 'Updated MqttCluster status');
  }
}

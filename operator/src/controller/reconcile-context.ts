// What the steps of one reconcile pass share: the cluster, the time, and what they observed and did.
import type { RingDocument } from '@shoal/proxy';
import type { Logger } from 'pino';
import type { MqttCluster, ShardStatus } from '../api/v1alpha1/mqttcluster.js';
import type { KubeClient } from '../kube/kube-client.js';
import type { ResolvedCluster } from '../resources/resolved-cluster.js';
import type { RingHoldReason } from '../resources/ring-plan.js';
import type { ObservedProxy } from './cluster-status.js';
import type { ClusterEvent } from './event-recorder.js';
import type { RetainedCopier } from './retained-copier.js';
import type { StreamEnsurer } from './stream-ensurer.js';

export interface ReconcileContext {
  readonly kube: KubeClient;
  readonly log: Logger;
  readonly streams: StreamEnsurer;
  /** Copies the retained messages of moved topics during a ring transition; none: not copied. */
  readonly retained?: RetainedCopier | undefined;
  /** `<namespace>/<cluster>/<shardId>` → the URL to dial instead of the in-cluster names (development). */
  readonly shardUrlOverrides: ReadonlyMap<string, string>;
  readonly cluster: MqttCluster;
  readonly resolved: ResolvedCluster;
  /** Milliseconds since the epoch, fixed for the pass. */
  readonly now: number;
  /** The ring in `X-ring` (after this pass's write, if any). */
  ring: RingDocument | undefined;
  ringHold: { readonly reason: RingHoldReason; readonly message: string } | undefined;
  readonly shards: ShardStatus[];
  proxy: ObservedProxy | undefined;
  /** `apiVersion/kind/name` of every object applied in this pass (pruning keeps these). */
  readonly applied: Set<string>;
  readonly events: ClusterEvent[];
  /** Look again after this many milliseconds (the soonest any step asked for). */
  requeueAfterMs: number | undefined;
}

/** One named step of a pass; throwing stops the pass. */
export interface ReconcileStep {
  readonly name: string;
  run(ctx: ReconcileContext): Promise<void>;
}

/** A step failed for a reason of its own (Degraded's reason is `reason`, not `<Step>Failed`); retried. */
export class StepFailedError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StepFailedError';
  }
}

/** Key of an applied object in ReconcileContext.applied. */
export const appliedKey = (obj: { readonly apiVersion: string; readonly kind: string; readonly metadata: { readonly name: string } }): string =>
  `${obj.apiVersion}/${obj.kind}/${obj.metadata.name}`;

/** Asks for another pass after `ms` (keeps the soonest request). */
export function requeueAfter(ctx: ReconcileContext, ms: number): void {
  ctx.requeueAfterMs = ctx.requeueAfterMs === undefined ? ms : Math.min(ctx.requeueAfterMs, ms);
}

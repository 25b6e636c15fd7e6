// The MqttCluster status, computed from what was observed and what the pass did. Pure.
import { ConditionType, type MqttClusterStatus, type ShardStatus } from '../api/v1alpha1/mqttcluster.js';
import type { RingDocument } from '@shoal/proxy';
import { mergeConditions, type ConditionInput } from './conditions.js';
import type { RingHoldReason } from '../resources/ring-plan.js';

/** Counts read from the proxy Deployment. */
export interface ObservedProxy {
  /** Replicas wanted (the Deployment's spec, which the HPA may have set). */
  readonly desired: number;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
  /** The Deployment controller has seen the latest spec. */
  readonly upToDate: boolean;
}

/** Why a pass could not finish: a failed step (retried) or a spec that cannot be built (not retried). */
export interface PassFailure {
  readonly reason: string;
  readonly message: string;
}

export interface StatusInput {
  readonly generation: number;
  readonly previous: MqttClusterStatus | undefined;
  /** RFC 3339 now. */
  readonly now: string;
  /** Label selector of the proxy pods (scale subresource). */
  readonly selector: string;
  readonly proxy: ObservedProxy | undefined;
  readonly shards: readonly ShardStatus[];
  readonly ring: RingDocument | undefined;
  readonly ringHold: { readonly reason: RingHoldReason; readonly message: string } | undefined;
  readonly failure: PassFailure | undefined;
}

const shardsReady = (shards: readonly ShardStatus[]): boolean => shards.every((s) => s.readyReplicas >= s.replicas);

function readiness(input: StatusInput): ConditionInput {
  const notReady = (reason: string, message: string): ConditionInput => ({ type: ConditionType.Ready, status: 'False', reason, message });
  if (input.failure !== undefined) return notReady(input.failure.reason, input.failure.message);
  if (input.ring === undefined) return notReady('RingNotPublished', 'the ring ConfigMap has not been written yet');
  const waiting = input.shards.filter((s) => s.readyReplicas < s.replicas).map((s) => s.id);
  if (waiting.length > 0) return notReady('ShardsNotReady', `shards not ready: ${waiting.join(', ')}`);
  const noStreams = input.shards.filter((s) => s.streamsReady !== true).map((s) => s.id);
  if (noStreams.length > 0) return notReady('StreamsNotReady', `streams not ensured on: ${noStreams.join(', ')}`);
  const proxy = input.proxy;
  if (proxy === undefined || proxy.readyReplicas < proxy.desired || (proxy.desired > 0 && proxy.readyReplicas === 0)) {
    return notReady('ProxiesNotReady', `${proxy?.readyReplicas ?? 0} of ${proxy?.desired ?? 0} proxies ready`);
  }
  return { type: ConditionType.Ready, status: 'True', reason: 'ClusterReady', message: `${proxy.readyReplicas} proxies and ${input.shards.length} shards ready` };
}

function progress(input: StatusInput): ConditionInput {
  const progressing = (reason: string, message: string): ConditionInput => ({ type: ConditionType.Progressing, status: 'True', reason, message });
  const { ringHold, ring, proxy } = input;
  if (ringHold !== undefined && ringHold.reason !== 'ShardShrinkRefused') return progressing(ringHold.reason, ringHold.message);
  if (ring?.transitionUntil !== undefined) {
    return progressing('RingTransition', `ring version ${ring.version} is in transition until ${ring.transitionUntil}`);
  }
  if (!shardsReady(input.shards)) return progressing('ShardsStarting', 'waiting for the shards to be ready');
  if (proxy !== undefined && (!proxy.upToDate || proxy.updatedReplicas < proxy.desired || proxy.readyReplicas < proxy.desired)) {
    return progressing('ProxyRollout', `${proxy.updatedReplicas} of ${proxy.desired} proxies updated, ${proxy.readyReplicas} ready`);
  }
  return { type: ConditionType.Progressing, status: 'False', reason: 'ReconcileComplete', message: 'every child matches the spec' };
}

function degradation(input: StatusInput): ConditionInput {
  if (input.failure !== undefined) return { type: ConditionType.Degraded, status: 'True', ...input.failure };
  if (input.ringHold?.reason === 'ShardShrinkRefused') return { type: ConditionType.Degraded, status: 'True', ...input.ringHold };
  return { type: ConditionType.Degraded, status: 'False', reason: 'AsExpected', message: 'no problem found' };
}

/** The status to write for one pass. */
export function computeStatus(input: StatusInput): MqttClusterStatus {
  const conditions = mergeConditions(input.previous?.conditions, [readiness(input), progress(input), degradation(input)], {
    generation: input.generation,
    now: input.now,
  });
  return {
    observedGeneration: input.generation,
    conditions,
    proxy: { replicas: input.proxy?.replicas ?? 0, readyReplicas: input.proxy?.readyReplicas ?? 0, selector: input.selector },
    shards: input.shards.map((s) => ({ ...s })),
    ...(input.ring === undefined
      ? {}
      : {
          ring: {
            version: input.ring.version,
            shards: input.ring.shards.length,
            ...(input.ring.transitionUntil === undefined ? {} : { transitionUntil: input.ring.transitionUntil }),
          },
        }),
  };
}

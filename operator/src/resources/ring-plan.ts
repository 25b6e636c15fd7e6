// Decides the next ring document from the spec and the ring the proxies have now (docs/ring.md
// "Transitions"). Pure: the current document, the shards' readiness and the time are inputs.
import type { RingDocument, RingDocumentInput } from '@shoal/proxy';
import { NatsPort, shardPodHost } from './shard-config.js';
import { shardId } from './names.js';
import type { ResolvedCluster } from './resolved-cluster.js';

/** The ring core (a document without its transition). */
export type RingCore = Pick<RingDocument, 'version' | 'vnodes' | 'shardKeyLevels' | 'shards'>;

/** Why the ring was not changed to what the spec asks for. */
export const RingHoldReason = {
  /** New shards are not ready yet; publishing would route topics to a server that is not there. */
  ShardsNotReady: 'ShardsNotReady',
  /** A transition is still running; proxies know only two rings at a time. */
  TransitionInProgress: 'TransitionInProgress',
  /** The spec has fewer shards than the ring: the removed shards' messages would be lost. */
  ShardShrinkRefused: 'ShardShrinkRefused',
} as const;
export type RingHoldReason = (typeof RingHoldReason)[keyof typeof RingHoldReason];

export type RingPlan =
  /** Write `document` (first ring, a change, or the end of a transition). */
  | { readonly action: 'publish'; readonly document: RingDocumentInput; readonly transition: boolean }
  /** The ring is what the spec asks for. */
  | { readonly action: 'keep'; readonly document: RingDocument }
  /** Keep the ring for now; `retryAfterMs` says when to look again, if the wait has a known end. */
  | {
      readonly action: 'hold';
      readonly document: RingDocument;
      readonly reason: RingHoldReason;
      readonly message: string;
      readonly retryAfterMs?: number;
    };

export interface RingPlanInput {
  readonly cluster: ResolvedCluster;
  /** The ring in `X-ring`, if any. */
  readonly current: RingDocument | undefined;
  /** Whether shard `id`'s servers are all ready. */
  readonly isShardReady: (id: string) => boolean;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** The shards of the ring the spec asks for: `shard-0` … `shard-<count-1>`, every replica's URL. */
export function desiredRingShards(cluster: ResolvedCluster): RingDocument['shards'] {
  const { count, replicas } = cluster.spec.shards;
  return Array.from({ length: count }, (_, index) => ({
    id: shardId(index),
    urls: Array.from({ length: replicas }, (_r, replica) => `nats://${shardPodHost(cluster, index, replica)}:${NatsPort.client}`),
    weight: 1,
  }));
}

function coreOf(document: RingCore): RingCore {
  return { version: document.version, vnodes: document.vnodes, shardKeyLevels: document.shardKeyLevels, shards: document.shards };
}

function sameRing(a: Omit<RingCore, 'version'>, b: Omit<RingCore, 'version'>): boolean {
  return JSON.stringify([a.vnodes, a.shardKeyLevels, a.shards]) === JSON.stringify([b.vnodes, b.shardKeyLevels, b.shards]);
}

/** RFC 3339 in UTC with whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The next ring for `input.cluster`; see RingPlan. */
export function planRing(input: RingPlanInput): RingPlan {
  const { cluster, current, now } = input;
  const { routing } = cluster.spec;
  const wanted = { vnodes: routing.vnodes, shardKeyLevels: routing.shardKeyLevels, shards: desiredRingShards(cluster) };
  if (current === undefined) return { action: 'publish', document: { version: 1, ...wanted }, transition: false };

  const until = current.transitionUntil === undefined ? undefined : Date.parse(current.transitionUntil);
  const inTransition = until !== undefined && now < until;
  const wantedIds = new Set(wanted.shards.map((shard) => shard.id));
  const dropped = current.shards.filter((shard) => !wantedIds.has(shard.id)).map((shard) => shard.id);
  if (dropped.length > 0) {
    return {
      action: 'hold',
      document: current,
      reason: RingHoldReason.ShardShrinkRefused,
      message: `the ring has ${current.shards.length} shards and spec.shards.count is ${cluster.spec.shards.count}: removing ${dropped.join(', ')} would lose their stored and retained messages; set spec.shards.count back to ${current.shards.length}`,
    };
  }
  if (sameRing(current, wanted)) {
    if (until !== undefined && !inTransition) return { action: 'publish', document: coreOf(current), transition: false };
    return { action: 'keep', document: current };
  }
  if (inTransition) {
    return {
      action: 'hold',
      document: current,
      reason: RingHoldReason.TransitionInProgress,
      message: `ring version ${current.version} is in transition until ${current.transitionUntil ?? ''}; the next change starts after it`,
      retryAfterMs: until - now,
    };
  }
  const notReady = wanted.shards.filter((shard) => !input.isShardReady(shard.id)).map((shard) => shard.id);
  if (notReady.length > 0) {
    return {
      action: 'hold',
      document: current,
      reason: RingHoldReason.ShardsNotReady,
      message: `waiting for ${notReady.join(', ')} to be ready before publishing the new ring`,
    };
  }
  return {
    action: 'publish',
    transition: true,
    document: {
      version: current.version + 1,
      ...wanted,
      previous: coreOf(current),
      transitionUntil: isoSeconds(now + routing.transitionSeconds * 1000),
    },
  };
}

// Step `EnsureStreams`: SHOAL_MSGS and SHOAL_RETAINED on every shard whose StatefulSet is ready, with the
// spec's retention, once per shard per (generation, settings): the status remembers what each shard's
// streams were ensured with, and a later pass with the same record skips the shard. A shard that cannot
// be reached fails the step with `StreamsNotReady` (Degraded, retried with backoff); the others are still
// ensured and remembered.
import { isDeepStrictEqual } from 'node:util';
import type { ShardStatus, ShardStreamsStatus } from '../../api/v1alpha1/mqttcluster.js';
import { durationToSeconds, quantityToBytes } from '../../api/v1alpha1/quantity.js';
import { shardIndexOf } from '../../resources/names.js';
import { NatsPort, shardPodHost } from '../../resources/shard-config.js';
import { StepFailedError, type ReconcileContext, type ReconcileStep } from '../reconcile-context.js';
import { shardOverrideKey, type StreamSettings } from '../stream-ensurer.js';

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The record a shard's streams are ensured with for this generation and spec. */
export function streamsRecord(ctx: ReconcileContext): ShardStreamsStatus {
  const { retention, shards } = ctx.resolved.spec;
  return {
    observedGeneration: ctx.cluster.metadata.generation ?? 0,
    offlineMaxAge: retention.offlineMaxAge,
    maxBytesPerShard: retention.maxBytesPerShard,
    replicas: shards.replicas,
  };
}

function settingsOf(record: ShardStreamsStatus): StreamSettings {
  return { maxAgeSeconds: durationToSeconds(record.offlineMaxAge), maxBytes: quantityToBytes(record.maxBytesPerShard), replicas: record.replicas };
}

/** The URLs to dial: the override, else the shard in the ring, else its in-cluster pod names. */
export function shardUrls(ctx: ReconcileContext, id: string): string[] {
  const { namespace, name, spec } = ctx.resolved;
  const override = ctx.shardUrlOverrides.get(shardOverrideKey(namespace, name, id));
  if (override !== undefined) return [override];
  const inRing = [...(ctx.ring?.shards ?? []), ...(ctx.ring?.previous?.shards ?? [])].find((s) => s.id === id);
  if (inRing !== undefined) return [...inRing.urls];
  const index = shardIndexOf(id) ?? 0;
  return Array.from({ length: spec.shards.replicas }, (_r, replica) => `nats://${shardPodHost(ctx.resolved, index, replica)}:${NatsPort.client}`);
}

const isReady = (shard: ShardStatus): boolean => shard.replicas > 0 && shard.readyReplicas >= shard.replicas;

export const ensureShardStreams: ReconcileStep = {
  name: 'EnsureStreams',
  async run(ctx: ReconcileContext): Promise<void> {
    const record = streamsRecord(ctx);
    const settings = settingsOf(record);
    const previous = ctx.cluster.status?.shards ?? [];
    const failures: string[] = [];
    await Promise.all(
      ctx.shards.map(async (shard, i) => {
        const before = previous.find((s) => s.id === shard.id);
        if (before?.streamsReady === true && isDeepStrictEqual(before.streams, record)) {
          ctx.shards[i] = { ...shard, streamsReady: true, streams: record };
          return;
        }
        if (!isReady(shard)) {
          ctx.shards[i] = { ...shard, streamsReady: false };
          return;
        }
        const urls = shardUrls(ctx, shard.id);
        try {
          await ctx.streams.ensure({ id: shard.id, urls }, settings);
          ctx.shards[i] = { ...shard, streamsReady: true, streams: record };
          ctx.log.info({ shard: shard.id, urls, ...record }, 'Ensured the streams');
          ctx.events.push({ type: 'Normal', reason: 'StreamsEnsured', message: `Ensured SHOAL_MSGS and SHOAL_RETAINED on ${shard.id}` });
        } catch (err: unknown) {
          ctx.shards[i] = { ...shard, streamsReady: false };
          failures.push(messageOf(err));
        }
      }),
    );
    if (failures.length > 0) throw new StepFailedError('StreamsNotReady', failures.sort().join('; '));
  },
};

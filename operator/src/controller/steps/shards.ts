// Step `applyShards`: every shard the spec or the ring needs (ConfigMap, headless Service, StatefulSet).
import type { KubeObject } from '../../kube/kube-object.js';
import { buildShardObjects, shardIndexes } from '../../resources/desired-state.js';
import { shardId } from '../../resources/names.js';
import type { ReconcileContext, ReconcileStep } from '../reconcile-context.js';
import { applyObjects } from './apply-objects.js';

const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

function shardStatus(index: number, set: KubeObject | undefined): { id: string; replicas: number; readyReplicas: number } {
  const spec = set?.['spec'] as { replicas?: unknown } | undefined;
  const status = set?.['status'] as { readyReplicas?: unknown } | undefined;
  return { id: shardId(index), replicas: count(spec?.replicas), readyReplicas: count(status?.readyReplicas) };
}

/** Manages the shards; records each one's readiness for the ring step and the status. */
export const applyShards: ReconcileStep = {
  name: 'ApplyShards',
  async run(ctx: ReconcileContext): Promise<void> {
    for (const index of shardIndexes(ctx.resolved, ctx.ring)) {
      const applied = await applyObjects(ctx, buildShardObjects(ctx.resolved, [index]));
      ctx.shards.push(shardStatus(index, applied.find((o) => o.kind === 'StatefulSet')));
    }
  },
};

// Step `prune`: deletes children this cluster no longer wants (an HPA after autoscaling was turned off,
// the ServiceMonitor after monitoring was), found by the cluster's labels and owner reference.
import { describeRef, refOf } from '../../kube/kube-object.js';
import { OWNED_KINDS } from '../../resources/desired-state.js';
import { ownedSelector } from '../../resources/labels.js';
import { appliedKey, type ReconcileContext, type ReconcileStep } from '../reconcile-context.js';

export const pruneObjects: ReconcileStep = {
  name: 'Prune',
  async run(ctx: ReconcileContext): Promise<void> {
    const { namespace, name, uid } = ctx.resolved;
    for (const type of OWNED_KINDS) {
      const existing = await ctx.kube.list(type, namespace, ownedSelector(name));
      for (const obj of existing) {
        const ours = obj.metadata.ownerReferences?.some((ref) => ref.uid === uid && ref.controller === true) ?? false;
        if (!ours || ctx.applied.has(appliedKey(obj))) continue;
        if (await ctx.kube.delete(refOf(obj))) {
          ctx.log.info({ kind: obj.kind, name: obj.metadata.name }, `Deleted ${obj.kind}`);
          ctx.events.push({ type: 'Normal', reason: 'Deleted', message: `Deleted ${describeRef(refOf(obj))}` });
        }
      }
    }
  },
};

// The one applier: server-side apply with field manager `shoal-operator`, an Event when a child is created.
import { describeRef, refOf, type KubeObject } from '../../kube/kube-object.js';
import { FIELD_MANAGER } from '../../resources/names.js';
import { appliedKey, type ReconcileContext } from '../reconcile-context.js';

/** Applies `objects` in order; returns what the server holds afterwards (status included). */
export async function applyObjects(ctx: ReconcileContext, objects: readonly KubeObject[]): Promise<KubeObject[]> {
  const results: KubeObject[] = [];
  for (const obj of objects) {
    const { object, created } = await ctx.kube.apply(obj, { fieldManager: FIELD_MANAGER });
    ctx.applied.add(appliedKey(obj));
    if (created) {
      ctx.log.info({ kind: obj.kind, name: obj.metadata.name }, `Created ${obj.kind}`);
      ctx.events.push({ type: 'Normal', reason: 'Created', message: `Created ${describeRef(refOf(obj))}` });
    }
    results.push(object);
  }
  return results;
}

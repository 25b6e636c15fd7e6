// Steps `observeRing` (read `X-ring`) and `publishRing` (write the planned ring, or say why not).
import { readRingDocument } from '../../resources/ring-configmap.js';
import { buildRingObject } from '../../resources/desired-state.js';
import { ringName } from '../../resources/names.js';
import { planRing } from '../../resources/ring-plan.js';
import { appliedKey, requeueAfter, type ReconcileContext, type ReconcileStep } from '../reconcile-context.js';
import { applyObjects } from './apply-objects.js';

/** Reads the ring the proxies have now (undefined before the first pass). */
export const observeRing: ReconcileStep = {
  name: 'ObserveRing',
  async run(ctx: ReconcileContext): Promise<void> {
    const configMap = await ctx.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ctx.resolved.namespace, name: ringName(ctx.resolved.name) });
    ctx.ring = readRingDocument(configMap?.['data'] as Record<string, string> | undefined);
  },
};

/** Publishes the next ring (docs/ring.md "Transitions"); a refused or waiting change is reported, not applied. */
export const publishRing: ReconcileStep = {
  name: 'PublishRing',
  async run(ctx: ReconcileContext): Promise<void> {
    const ready = new Set(ctx.shards.filter((s) => s.replicas > 0 && s.readyReplicas >= s.replicas).map((s) => s.id));
    const plan = planRing({ cluster: ctx.resolved, current: ctx.ring, isShardReady: (id) => ready.has(id), now: ctx.now });
    if (plan.action === 'hold') {
      ctx.ringHold = { reason: plan.reason, message: plan.message };
      if (plan.retryAfterMs !== undefined) requeueAfter(ctx, plan.retryAfterMs);
    } else if (plan.action === 'publish') {
      const [written] = await applyObjects(ctx, [buildRingObject(ctx.resolved, plan.document)]);
      ctx.ring = readRingDocument(written?.['data'] as Record<string, string> | undefined);
      const version = plan.document.version;
      if (plan.transition) {
        ctx.events.push({ type: 'Normal', reason: 'RingTransitionStarted', message: `Published ring version ${version} with the previous ring until ${plan.document.transitionUntil ?? ''}` });
      } else {
        ctx.events.push({ type: 'Normal', reason: 'RingPublished', message: `Published ring version ${version}` });
      }
    }
    // The ring ConfigMap is never pruned, even in a pass that did not write it.
    ctx.applied.add(appliedKey({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ringName(ctx.resolved.name) } }));
    if (ctx.ring?.transitionUntil !== undefined) requeueAfter(ctx, Math.max(0, Date.parse(ctx.ring.transitionUntil) - ctx.now) + 1000);
  },
};

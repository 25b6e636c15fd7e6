// Step `CopyRetained`: during a ring transition, once the proxies have had time to switch to the new ring, copy
// the retained messages of moved topics to their new owners (once per ring version). The proxies follow the
// ring ConfigMap through the API server within about a second, and the mounted file (their fallback) within
// about a minute, so the copy waits PROPAGATION_MS (or half the transition, when shorter) after the publish.
import { requeueAfter, StepFailedError, type ReconcileContext, type ReconcileStep } from '../reconcile-context.js';
import { shardUrls } from './streams.js';

/** Time after publishing a transition ring before the copy starts. */
export const PROPAGATION_MS = 90_000;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export const copyRetained: ReconcileStep = {
  name: 'CopyRetained',
  async run(ctx: ReconcileContext): Promise<void> {
    const ring = ctx.ring;
    if (ctx.retained === undefined || ring?.previous === undefined || ring.transitionUntil === undefined) return;
    const until = Date.parse(ring.transitionUntil);
    if (ctx.now >= until) return;
    const transitionMs = ctx.resolved.spec.routing.transitionSeconds * 1000;
    const due = until - transitionMs + Math.min(PROPAGATION_MS, transitionMs / 2);
    if (ctx.now < due) {
      requeueAfter(ctx, due - ctx.now);
      return;
    }
    const key = `${ctx.resolved.namespace}/${ctx.resolved.name}@${ring.version}`;
    try {
      const report = await ctx.retained.copyOnce(key, { previous: ring.previous, current: ring, urlsOf: (id) => shardUrls(ctx, id) });
      if (report === undefined) return;
      ctx.log.info({ ring: ring.version, ...report }, 'Copied the retained messages of moved topics');
      ctx.events.push({
        type: 'Normal',
        reason: 'RetainedCopied',
        message: `Ring version ${ring.version}: ${report.moved} retained messages moved, ${report.copied} copied, ${report.kept} newer on the new owner`,
      });
    } catch (err: unknown) {
      throw new StepFailedError('RetainedCopyFailed', `ring version ${ring.version}: ${messageOf(err)}`, { cause: err });
    }
  },
};

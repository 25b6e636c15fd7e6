// Step `applyProxy`: the proxy tier. With autoscaling on, the Deployment's replicas are handed over first.
import type { KubeObject } from '../../kube/kube-object.js';
import { buildProxyObjects } from '../../resources/desired-state.js';
import { FIELD_MANAGER, proxyName } from '../../resources/names.js';
import type { ObservedProxy } from '../cluster-status.js';
import type { ReconcileContext, ReconcileStep } from '../reconcile-context.js';
import { applyObjects } from './apply-objects.js';

/** Field manager that keeps `spec.replicas` at its value while the operator lets go of it. */
export const HANDOVER_FIELD_MANAGER = 'shoal-operator-handover';

/** Whether the operator's apply owns `spec.replicas` of this Deployment (from its managedFields). */
export function ownsReplicas(deployment: KubeObject): boolean {
  return (deployment.metadata.managedFields ?? []).some((entry) => {
    const spec = entry.fieldsV1?.['f:spec'] as Record<string, unknown> | undefined;
    return entry.manager === FIELD_MANAGER && entry.operation === 'Apply' && entry.subresource === undefined && spec?.['f:replicas'] !== undefined;
  });
}

const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** Replica counts of the Deployment as the status reports them. */
export function observeProxy(deployment: KubeObject): ObservedProxy {
  const spec = deployment['spec'] as { replicas?: unknown } | undefined;
  const status = (deployment['status'] ?? {}) as Record<string, unknown>;
  return {
    desired: typeof spec?.replicas === 'number' ? spec.replicas : 1,
    replicas: count(status['replicas']),
    readyReplicas: count(status['readyReplicas']),
    updatedReplicas: count(status['updatedReplicas']),
    upToDate: count(status['observedGeneration']) >= (deployment.metadata.generation ?? 0),
  };
}

/**
 * Dropping a field from an apply deletes it when no other manager owns it, which would reset the
 * Deployment to 1 replica before the HPA acts. So a second manager first applies the current value;
 * the field then stays until the HPA changes it (server-side apply "transferring ownership").
 */
async function handOverReplicas(ctx: ReconcileContext): Promise<void> {
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ctx.resolved.namespace, name: proxyName(ctx.resolved.name) };
  const current = await ctx.kube.get(ref);
  if (current === undefined || !ownsReplicas(current)) return;
  const replicas = (current['spec'] as { replicas?: number } | undefined)?.replicas ?? 1;
  await ctx.kube.apply({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace }, spec: { replicas } }, { fieldManager: HANDOVER_FIELD_MANAGER });
  ctx.log.info({ replicas }, 'Handed Deployment replicas over to the HorizontalPodAutoscaler');
}

/** Manages the proxies' ServiceAccount, RBAC, configuration, Deployment, Service, PDB, HPA and monitoring. */
export const applyProxy: ReconcileStep = {
  name: 'ApplyProxy',
  async run(ctx: ReconcileContext): Promise<void> {
    if (ctx.resolved.spec.proxy.autoscaling.enabled) await handOverReplicas(ctx);
    const applied = await applyObjects(ctx, buildProxyObjects(ctx.resolved));
    const deployment = applied.find((o) => o.kind === 'Deployment');
    ctx.proxy = deployment === undefined ? undefined : observeProxy(deployment);
  },
};

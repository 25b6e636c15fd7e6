// The labels of every child (app.kubernetes.io/*, DESIGN.md "Names"); built here only.

/** Component of a child: the proxy tier, a shard, or the ring. */
export type Component = 'proxy' | 'shard' | 'ring';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Index of the shard on a shard's children. */
export const LABEL_SHARD = 'shoal.dev/shard';
export const MANAGED_BY = 'shoal-operator';

/** Labels that select the pods of one component (stable: Deployment and StatefulSet selectors are immutable). */
export function selectorLabels(cluster: string, component: Component, shard?: number): Record<string, string> {
  return {
    [LABEL_NAME]: 'shoal',
    [LABEL_INSTANCE]: cluster,
    [LABEL_COMPONENT]: component,
    ...(shard === undefined ? {} : { [LABEL_SHARD]: String(shard) }),
  };
}

/** Every label of a child object: the selector labels plus part-of and managed-by. */
export function childLabels(cluster: string, component: Component, shard?: number): Record<string, string> {
  return { ...selectorLabels(cluster, component, shard), [LABEL_PART_OF]: 'shoal', [LABEL_MANAGED_BY]: MANAGED_BY };
}

/** Label selector (string form) of everything the operator made for one cluster. */
export function ownedSelector(cluster: string): string {
  return `${LABEL_INSTANCE}=${cluster},${LABEL_MANAGED_BY}=${MANAGED_BY}`;
}

/** Label selector (string form) of a component's pods, as the scale subresource reports it. */
export function selectorString(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

// Status conditions (Kubernetes API conventions): `lastTransitionTime` moves only when `status` changes.
import type { Condition, ConditionType } from '../api/v1alpha1/mqttcluster.js';

/** A condition as computed, before times and generations are filled in. */
export interface ConditionInput {
  readonly type: ConditionType;
  readonly status: Condition['status'];
  readonly reason: string;
  readonly message: string;
}

/**
 * The conditions to write: `next` in its order, each with `observedGeneration`, keeping the previous
 * `lastTransitionTime` of a condition whose status did not change.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  options: { readonly generation: number; readonly now: string },
): Condition[] {
  return next.map((condition) => {
    const before = previous?.find((c) => c.type === condition.type);
    const lastTransitionTime = before !== undefined && before.status === condition.status ? before.lastTransitionTime : options.now;
    return { ...condition, observedGeneration: options.generation, lastTransitionTime };
  });
}

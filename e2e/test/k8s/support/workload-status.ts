// What the StatefulSet and Deployment controllers would write once every pod is ready. No controller
// runs next to the test API server, so the tests write that status themselves (as envtest users do).
import { eventually, getJson, kubectl } from './kube-cli.js';

/** Marks StatefulSet `<cluster>-shard-<index>` ready (every replica). */
export async function markShardReady(namespace: string, cluster: string, index: number): Promise<void> {
  const name = `${cluster}-shard-${index}`;
  const set = await eventually(() => getJson('statefulset', name, namespace), `StatefulSet ${name}`);
  const n = set.spec.replicas;
  const status = { observedGeneration: set.metadata.generation, replicas: n, readyReplicas: n, availableReplicas: n, currentReplicas: n, updatedReplicas: n };
  await kubectl(['patch', 'statefulset', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

/** Marks Deployment `<cluster>-proxy` ready (every replica). */
export async function markProxiesReady(namespace: string, cluster: string): Promise<void> {
  const deployment = await getJson('deployment', `${cluster}-proxy`, namespace);
  const n = deployment.spec.replicas;
  const status = { observedGeneration: deployment.metadata.generation, replicas: n, readyReplicas: n, availableReplicas: n, updatedReplicas: n };
  await kubectl(['patch', 'deployment', deployment.metadata.name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

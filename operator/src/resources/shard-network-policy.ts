// `X-shards` NetworkPolicy (optional, spec.networkPolicy.enabled): the shards' pods accept NATS clients only from
// this cluster's proxies and the operator (which ensures the streams), and cluster routes only from each other.
// Everything else, the monitoring port included, is refused once a policy selects the pods.
import type { V1ObjectMeta } from './kube-types.js';
import { LABEL_COMPONENT, LABEL_INSTANCE, LABEL_NAME, selectorLabels } from './labels.js';
import { shardsNetworkPolicyName } from './names.js';
import { childMeta, type ResolvedCluster } from './resolved-cluster.js';
import { NatsPort } from './shard-config.js';

type Selector = { matchLabels: Record<string, string> } | Record<string, never>;
interface Peer {
  readonly podSelector: Selector;
  readonly namespaceSelector?: Selector;
}

/** A networking.k8s.io/v1 NetworkPolicy as sent on the wire (client-node's model names `from` `_from`). */
export interface NetworkPolicyObject {
  readonly apiVersion: 'networking.k8s.io/v1';
  readonly kind: 'NetworkPolicy';
  readonly metadata: V1ObjectMeta;
  readonly spec: {
    readonly podSelector: Selector;
    readonly policyTypes: readonly ('Ingress' | 'Egress')[];
    readonly ingress: readonly { readonly from: readonly Peer[]; readonly ports: readonly { protocol: string; port: number }[] }[];
  };
}

/** The labels the chart gives the operator's pods (charts/shoal/templates/_helpers.tpl "shoal.selectorLabels"). */
const OPERATOR_POD_LABELS = { [LABEL_NAME]: 'shoal', [LABEL_COMPONENT]: 'operator' };

/** The pods of every shard of the cluster (a shard's own labels add its index). */
function allShardPods(cluster: string): Record<string, string> {
  return { [LABEL_NAME]: 'shoal', [LABEL_INSTANCE]: cluster, [LABEL_COMPONENT]: 'shard' };
}

/** The NetworkPolicy, or undefined when the spec does not ask for one. */
export function buildShardNetworkPolicy(cluster: ResolvedCluster): NetworkPolicyObject | undefined {
  const policy = cluster.spec.networkPolicy;
  if (policy?.enabled !== true) return undefined;
  const operatorNamespace =
    policy.operatorNamespace === undefined ? {} : { matchLabels: { 'kubernetes.io/metadata.name': policy.operatorNamespace } };
  const tcp = (port: number): { protocol: string; port: number } => ({ protocol: 'TCP', port });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(cluster, shardsNetworkPolicyName(cluster.name), 'shard'),
    spec: {
      podSelector: { matchLabels: allShardPods(cluster.name) },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: selectorLabels(cluster.name, 'proxy') } },
            { namespaceSelector: operatorNamespace, podSelector: { matchLabels: OPERATOR_POD_LABELS } },
          ],
          ports: [tcp(NatsPort.client)],
        },
        { from: [{ podSelector: { matchLabels: allShardPods(cluster.name) } }], ports: [tcp(NatsPort.client), tcp(NatsPort.cluster)] },
      ],
    },
  };
}

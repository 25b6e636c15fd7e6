// Every name the operator gives a child of MqttCluster `X` (DESIGN.md "Names"); built here only.

/** Field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = 'shoal-operator';

/** `X-proxy`: the proxy Deployment, ServiceAccount, Role, RoleBinding, PodDisruptionBudget and HPA. */
export const proxyName = (cluster: string): string => `${cluster}-proxy`;
/** `X-mqtt`: the Service devices connect to. */
export const mqttServiceName = (cluster: string): string => `${cluster}-mqtt`;
/** `X-proxy-metrics`: the headless Service a ServiceMonitor scrapes. */
export const proxyMetricsServiceName = (cluster: string): string => `${cluster}-proxy-metrics`;
/** `X-proxy-config`: the proxy configuration ConfigMap. */
export const proxyConfigName = (cluster: string): string => `${cluster}-proxy-config`;
/** `X-ring`: the ring ConfigMap. */
export const ringName = (cluster: string): string => `${cluster}-ring`;
/** `X-shard-<i>`: a shard's StatefulSet, headless Service and nats-server ConfigMap. */
export const shardName = (cluster: string, index: number): string => `${cluster}-shard-${index}`;
/** `X-shards`: the NetworkPolicy in front of every shard of the cluster (spec.networkPolicy). */
export const shardsNetworkPolicyName = (cluster: string): string => `${cluster}-shards`;
/** `shard-<i>`: the shard's id in the ring document (independent of the cluster name). */
export const shardId = (index: number): string => `shard-${index}`;

/** Index of a ring shard id (`shard-7` → 7), or undefined for an id the operator did not make. */
export function shardIndexOf(id: string): number | undefined {
  const match = /^shard-(0|[1-9][0-9]*)$/.exec(id);
  return match === null ? undefined : Number(match[1]);
}

/** Key of the ring document in `X-ring`. */
export const RING_KEY = 'ring.json';
/** Key of the configuration document in `X-proxy-config`. */
export const PROXY_CONFIG_KEY = 'config.json';
/** Key of the nats-server configuration in `X-shard-<i>`. */
export const NATS_CONFIG_KEY = 'nats.conf';
/** Pod template annotation holding the hash of the proxy configuration (a change rolls the proxies). */
export const CONFIG_HASH_ANNOTATION = 'shoal.dev/config-hash';

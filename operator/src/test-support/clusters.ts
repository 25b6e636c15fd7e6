// Fixture builders for MqttClusters (cert-manager's gen.Certificate style: defaults plus overrides).
import { API_VERSION, KIND } from '../api/v1alpha1/group-version.js';
import type { MqttCluster } from '../api/v1alpha1/mqttcluster.js';
import { parseMqttClusterSpec, type MqttClusterSpecInput } from '../api/v1alpha1/mqttcluster-spec.js';
import type { ResolvedCluster } from '../resources/resolved-cluster.js';

export const TEST_IMAGES = { proxy: 'shoal/proxy:test', nats: 'nats:test' } as const;

/** A resolved cluster `demo` in namespace `mqtt` with the given spec. */
export function resolvedCluster(spec: MqttClusterSpecInput = {}, name = 'demo'): ResolvedCluster {
  return { name, namespace: 'mqtt', uid: `uid-${name}`, spec: parseMqttClusterSpec(spec), images: TEST_IMAGES };
}

/** An MqttCluster object as the API server returns it. */
export function mqttCluster(spec: MqttClusterSpecInput = {}, name = 'demo', generation = 1): MqttCluster {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: 'mqtt', uid: `uid-${name}`, generation },
    spec,
  };
}

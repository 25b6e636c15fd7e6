// The public entry point of @shoal/operator: the API types and the pure builders (for tools and tests).
export { API_VERSION, GROUP, KIND, PLURAL, VERSION } from './api/v1alpha1/group-version.js';
export type { Condition, MqttCluster, MqttClusterStatus } from './api/v1alpha1/mqttcluster.js';
export { MqttClusterSpecSchema, parseMqttClusterSpec, InvalidSpecError } from './api/v1alpha1/mqttcluster-spec.js';
export type { MqttClusterSpec, MqttClusterSpecInput } from './api/v1alpha1/mqttcluster-spec.js';
export { FIELD_MANAGER } from './resources/names.js';

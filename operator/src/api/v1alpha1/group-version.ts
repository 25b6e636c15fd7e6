// The MqttCluster API: group, version and kind, named once (DESIGN.md "Names").

/** API group of every Shoal custom resource. */
export const GROUP = 'shoal.dev';
/** The served and stored version. */
export const VERSION = 'v1alpha1';
/** `apiVersion` of an MqttCluster. */
export const API_VERSION = `${GROUP}/${VERSION}`;
/** Kind of the custom resource. */
export const KIND = 'MqttCluster';
/** Plural resource name (URL path segment). */
export const PLURAL = 'mqttclusters';

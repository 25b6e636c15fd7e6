// The MqttCluster object as the operator reads it, and the status it writes.

/** Condition types (Kubernetes API conventions; kubebuilder's Available/Progressing/Degraded). */
export const ConditionType = { Ready: 'Ready', Progressing: 'Progressing', Degraded: 'Degraded' } as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** A status condition; `lastTransitionTime` changes only when `status` changes. */
export interface Condition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly observedGeneration: number;
  /** RFC 3339, seconds precision. */
  readonly lastTransitionTime: string;
  /** PascalCase, machine-readable. */
  readonly reason: string;
  readonly message: string;
}

/** Readiness of one shard (its StatefulSet). */
export interface ShardStatus {
  /** Ring id of the shard (`shard-<i>`). */
  readonly id: string;
  readonly replicas: number;
  readonly readyReplicas: number;
  /** SHOAL_MSGS and SHOAL_RETAINED exist on the shard with the settings in `streams`. */
  readonly streamsReady?: boolean;
  /** What the streams were last ensured with (the operator ensures again when this differs). */
  readonly streams?: ShardStreamsStatus;
}

/** The generation and settings a shard's streams were ensured with. */
export interface ShardStreamsStatus {
  readonly observedGeneration: number;
  readonly offlineMaxAge: string;
  readonly maxBytesPerShard: string;
  readonly replicas: number;
}

/** Status of the proxy tier; `replicas` and `selector` back the scale subresource. */
export interface ProxyStatus {
  readonly replicas: number;
  readonly readyReplicas: number;
  /** Label selector of the proxy pods, as a string (what an HPA on the MqttCluster needs). */
  readonly selector: string;
}

/** The ring the proxies route with. */
export interface RingStatus {
  readonly version: number;
  readonly shards: number;
  /** End of the ring transition in progress, absent when none is. */
  readonly transitionUntil?: string;
}

/** `.status` of an MqttCluster. */
export interface MqttClusterStatus {
  readonly observedGeneration?: number;
  readonly conditions?: readonly Condition[];
  readonly proxy?: ProxyStatus;
  readonly shards?: readonly ShardStatus[];
  readonly ring?: RingStatus;
}

/** The metadata fields the operator uses. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** An MqttCluster as read from the API server; `spec` is still unvalidated. */
export interface MqttCluster {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly spec?: unknown;
  readonly status?: MqttClusterStatus;
}

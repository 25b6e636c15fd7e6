// client-node's model types as plain JSON shapes. client-node declares its models as classes (with
// `Date` timestamps); builders return plain object literals, which is what server-side apply sends.
import type * as k8s from '@kubernetes/client-node';

/** `T` with every class replaced by its fields and every `Date` by the RFC 3339 string on the wire. */
export type Plain<T> = T extends Date ? string : T extends readonly (infer U)[] ? Plain<U>[] : T extends object ? { [K in keyof T]: Plain<T[K]> } : T;

export type V1ConfigMap = Plain<k8s.V1ConfigMap>;
export type V1Container = Plain<k8s.V1Container>;
export type V1EnvVar = Plain<k8s.V1EnvVar>;
export type V1Deployment = Plain<k8s.V1Deployment>;
export type V1ObjectMeta = Plain<k8s.V1ObjectMeta>;
export type V1OwnerReference = Plain<k8s.V1OwnerReference>;
export type V1PodDisruptionBudget = Plain<k8s.V1PodDisruptionBudget>;
export type V1PodSecurityContext = Plain<k8s.V1PodSecurityContext>;
export type V1PodSpec = Plain<k8s.V1PodSpec>;
export type V1Role = Plain<k8s.V1Role>;
export type V1RoleBinding = Plain<k8s.V1RoleBinding>;
export type V1SecurityContext = Plain<k8s.V1SecurityContext>;
export type V1Service = Plain<k8s.V1Service>;
export type V1ServiceAccount = Plain<k8s.V1ServiceAccount>;
export type V1ServicePort = Plain<k8s.V1ServicePort>;
export type V1StatefulSet = Plain<k8s.V1StatefulSet>;
export type V1Volume = Plain<k8s.V1Volume>;
export type V1VolumeMount = Plain<k8s.V1VolumeMount>;
export type V2HorizontalPodAutoscaler = Plain<k8s.V2HorizontalPodAutoscaler>;
/** Any object with the common envelope. */
export type KubernetesObject = Plain<k8s.KubernetesObject>;

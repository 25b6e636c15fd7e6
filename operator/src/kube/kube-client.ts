// The operator's only way to the API server. One implementation talks to a real server
// (client-node-kube-client.ts); tests use test-support/fake-kube-client.ts.
import type { KubeObject, ObjectRef, TypeRef } from './kube-object.js';

/** Options of a server-side apply. */
export interface ApplyOptions {
  /** Field manager; default `shoal-operator`. */
  readonly fieldManager?: string;
}

/** The object after an apply, and whether the apply created it. */
export interface ApplyResult {
  readonly object: KubeObject;
  readonly created: boolean;
}

export interface KubeClient {
  /** The object, or undefined when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Objects of a kind in a namespace matching a label selector; a kind the server does not serve lists empty. */
  list(type: TypeRef, namespace: string, labelSelector: string): Promise<KubeObject[]>;
  /** Server-side apply with `force` (the operator owns what it applies); creates the object when missing. */
  apply(obj: KubeObject, options?: ApplyOptions): Promise<ApplyResult>;
  /** Server-side apply of the status subresource. */
  applyStatus(obj: KubeObject): Promise<KubeObject>;
  /** Creates; KubeApiError 409 when it exists. */
  create(obj: KubeObject): Promise<KubeObject>;
  /** Replaces; KubeApiError 409 when `metadata.resourceVersion` is not the current one. */
  replace(obj: KubeObject): Promise<KubeObject>;
  /** Deletes (background propagation); false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
}

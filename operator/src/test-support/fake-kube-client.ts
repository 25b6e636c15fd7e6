// An in-memory KubeClient that keeps the API server's contract where the operator relies on it:
// resourceVersion conflicts on replace (and on apply when a resourceVersion is given), AlreadyExists on
// create, NotFound, generation bumps on spec changes, status only through the status subresource.
// Server-side apply is simplified: the applied fields replace the object's (the operator is the only
// manager in these tests), `status` is kept.
import { KubeApiError } from '../kube/errors.js';
import type { ApplyOptions, ApplyResult, KubeClient } from '../kube/kube-client.js';
import type { KubeObject, ObjectRef, TypeRef } from '../kube/kube-object.js';

type Verb = 'get' | 'list' | 'apply' | 'applyStatus' | 'create' | 'replace' | 'delete';

const keyOf = (ref: ObjectRef): string => `${ref.apiVersion}/${ref.kind}/${ref.namespace}/${ref.name}`;
const refOf = (obj: KubeObject): ObjectRef => ({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name });
// JSON round trip, like an API response (structuredClone would build objects of another realm under jest).
const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

function specOf(obj: KubeObject): unknown {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

/** One recorded write, for tests that check what was (not) sent. */
export interface FakeWrite {
  readonly verb: Verb;
  readonly ref: ObjectRef;
  readonly fieldManager?: string;
  readonly object?: KubeObject;
}

export class FakeKubeClient implements KubeClient {
  private readonly objects = new Map<string, KubeObject>();
  private revision = 0;
  private uids = 0;
  private readonly failures: { verb: Verb; kind: string | undefined; error: Error }[] = [];
  /** Every write, in order. */
  readonly writes: FakeWrite[] = [];
  /** Kinds this fake "does not serve" (list and apply answer 404, like a missing CRD). */
  readonly unservedKinds = new Set<string>();

  /** Makes the next call of `verb` (on `kind`, if given) fail with `error`. */
  failNext(verb: Verb, error: Error, kind?: string): void {
    this.failures.push({ verb, kind, error });
  }

  /** Stores an object as if someone else created it (fills uid, resourceVersion, generation). */
  seed(obj: KubeObject): KubeObject {
    return this.store(obj, undefined);
  }

  /** The stored object (a copy), or undefined. */
  peek(ref: ObjectRef): KubeObject | undefined {
    const obj = this.objects.get(keyOf(ref));
    return obj === undefined ? undefined : clone(obj);
  }

  /** Every stored object of a kind. */
  all(kind: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => o.kind === kind).map(clone);
  }

  /** Sets an object's status directly (what a Deployment or StatefulSet controller would do). */
  setStatus(ref: ObjectRef, status: unknown): void {
    const current = this.require(ref);
    this.objects.set(keyOf(ref), { ...current, status: clone(status), metadata: { ...current.metadata, resourceVersion: this.nextRevision() } });
  }

  get(ref: ObjectRef): Promise<KubeObject | undefined> {
    return this.run('get', ref.kind, () => this.peek(ref));
  }

  list(type: TypeRef, namespace: string, labelSelector: string): Promise<KubeObject[]> {
    return this.run('list', type.kind, () => {
      if (this.unservedKinds.has(type.kind)) return [];
      const wanted = labelSelector === '' ? [] : labelSelector.split(',').map((term) => term.split('='));
      return [...this.objects.values()]
        .filter((o) => o.apiVersion === type.apiVersion && o.kind === type.kind && (namespace === '' || o.metadata.namespace === namespace))
        .filter((o) => wanted.every(([k, v]) => k !== undefined && o.metadata.labels?.[k] === v))
        .map(clone);
    });
  }

  apply(obj: KubeObject, options: ApplyOptions = {}): Promise<ApplyResult> {
    return this.run('apply', obj.kind, () => {
      if (this.unservedKinds.has(obj.kind)) throw new KubeApiError(404, 'NotFound', `the server could not find the requested resource (${obj.kind})`);
      const current = this.objects.get(keyOf(refOf(obj)));
      this.checkVersion(obj, current);
      this.writes.push({ verb: 'apply', ref: refOf(obj), object: clone(obj), ...(options.fieldManager === undefined ? {} : { fieldManager: options.fieldManager }) });
      const stored = this.store(obj, current);
      return { object: clone(stored), created: current === undefined };
    });
  }

  applyStatus(obj: KubeObject): Promise<KubeObject> {
    return this.run('applyStatus', obj.kind, () => {
      const current = this.require(refOf(obj));
      this.checkVersion(obj, current);
      this.writes.push({ verb: 'applyStatus', ref: refOf(obj), object: clone(obj) });
      const next = { ...current, status: clone(obj['status']), metadata: { ...current.metadata, resourceVersion: this.nextRevision() } };
      this.objects.set(keyOf(refOf(obj)), next);
      return clone(next);
    });
  }

  create(obj: KubeObject): Promise<KubeObject> {
    return this.run('create', obj.kind, () => {
      if (this.objects.has(keyOf(refOf(obj)))) throw new KubeApiError(409, 'AlreadyExists', `${obj.kind} "${obj.metadata.name}" already exists`);
      this.writes.push({ verb: 'create', ref: refOf(obj), object: clone(obj) });
      return clone(this.store(obj, undefined));
    });
  }

  replace(obj: KubeObject): Promise<KubeObject> {
    return this.run('replace', obj.kind, () => {
      const current = this.require(refOf(obj));
      if (obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
        throw new KubeApiError(409, 'Conflict', `the object has been modified; please apply your changes to the latest version and try again`);
      }
      this.writes.push({ verb: 'replace', ref: refOf(obj), object: clone(obj) });
      return clone(this.store(obj, current));
    });
  }

  delete(ref: ObjectRef): Promise<boolean> {
    return this.run('delete', ref.kind, () => {
      this.writes.push({ verb: 'delete', ref });
      return this.objects.delete(keyOf(ref));
    });
  }

  private run<T>(verb: Verb, kind: string, body: () => T): Promise<T> {
    const index = this.failures.findIndex((f) => f.verb === verb && (f.kind === undefined || f.kind === kind));
    if (index >= 0) {
      const [failure] = this.failures.splice(index, 1);
      return Promise.reject(failure?.error ?? new Error('injected failure'));
    }
    try {
      return Promise.resolve(body());
    } catch (err: unknown) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private require(ref: ObjectRef): KubeObject {
    const current = this.objects.get(keyOf(ref));
    if (current === undefined) throw new KubeApiError(404, 'NotFound', `${ref.kind} "${ref.name}" not found`);
    return current;
  }

  private checkVersion(obj: KubeObject, current: KubeObject | undefined): void {
    const wanted = obj.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== current?.metadata.resourceVersion) {
      throw new KubeApiError(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
    }
  }

  private nextRevision(): string {
    this.revision += 1;
    return String(this.revision);
  }

  private store(obj: KubeObject, current: KubeObject | undefined): KubeObject {
    const changed = current === undefined || JSON.stringify(specOf(current)) !== JSON.stringify(specOf(obj));
    const generation = (current?.metadata.generation ?? 0) + (changed ? 1 : 0);
    const { status: _ignored, ...body } = clone(obj);
    const next: KubeObject = {
      ...body,
      ...(current?.['status'] === undefined ? {} : { status: current['status'] }),
      metadata: {
        ...obj.metadata,
        uid: current?.metadata.uid ?? obj.metadata.uid ?? `uid-${++this.uids}`,
        generation,
        resourceVersion: changed ? this.nextRevision() : (current.metadata.resourceVersion ?? this.nextRevision()),
      },
    };
    this.objects.set(keyOf(refOf(obj)), next);
    return next;
  }
}

// The KubeClient on a real API server: client-node for configuration and credentials (kubeconfig,
// in-cluster token, client certificates), node:https for the requests, plain JSON in and out (client-node's
// typed models would turn timestamps into Date objects).
import { request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../resources/names.js';
import { KubeApiError } from './errors.js';
import type { ApplyOptions, ApplyResult, KubeClient } from './kube-client.js';
import type { KubeObject, ObjectRef, TypeRef } from './kube-object.js';
import { collectionPath, objectPath } from './resource-paths.js';

/** A list response: items and the resourceVersion to watch from. */
export interface KubeList {
  readonly items: KubeObject[];
  readonly metadata: { readonly resourceVersion?: string };
}

interface Response {
  readonly status: number;
  readonly body: unknown;
}

const APPLY = 'application/apply-patch+yaml';
/** Longest a single request may take. */
const REQUEST_TIMEOUT_MS = 30_000;

export class ClientNodeKubeClient implements KubeClient {
  constructor(private readonly config: KubeConfig) {}

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const res = await this.send('GET', objectPath(ref), { allow404: true });
    return res.status === 404 ? undefined : (res.body as KubeObject);
  }

  async list(type: TypeRef, namespace: string, labelSelector: string): Promise<KubeObject[]> {
    const res = await this.send('GET', `${collectionPath(type, namespace)}?${new URLSearchParams({ labelSelector }).toString()}`, { allow404: true });
    return res.status === 404 ? [] : withKind(res.body as KubeList, type).items;
  }

  /** A raw list (for informers): items with apiVersion and kind filled in, and the list's resourceVersion. */
  async listRaw(type: TypeRef, namespace: string, labelSelector: string | undefined): Promise<KubeList> {
    const query = labelSelector === undefined ? '' : `?${new URLSearchParams({ labelSelector }).toString()}`;
    return withKind((await this.send('GET', `${collectionPath(type, namespace)}${query}`)).body as KubeList, type);
  }

  async apply(obj: KubeObject, options: ApplyOptions = {}): Promise<ApplyResult> {
    const query = new URLSearchParams({ fieldManager: options.fieldManager ?? FIELD_MANAGER, force: 'true' }).toString();
    const res = await this.send('PATCH', `${objectPath(refOf(obj))}?${query}`, { body: obj, contentType: APPLY });
    return { object: res.body as KubeObject, created: res.status === 201 };
  }

  async applyStatus(obj: KubeObject): Promise<KubeObject> {
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true' }).toString();
    return (await this.send('PATCH', `${objectPath(refOf(obj))}/status?${query}`, { body: obj, contentType: APPLY })).body as KubeObject;
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    return (await this.send('POST', collectionPath(obj, obj.metadata.namespace ?? ''), { body: obj })).body as KubeObject;
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    return (await this.send('PUT', objectPath(refOf(obj)), { body: obj })).body as KubeObject;
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    const res = await this.send('DELETE', objectPath(ref), { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' }, allow404: true });
    return res.status !== 404;
  }

  private async send(method: string, path: string, options: { body?: unknown; contentType?: string; allow404?: boolean } = {}): Promise<Response> {
    const cluster = this.config.getCurrentCluster();
    if (cluster === null) throw new KubeApiError(0, 'NoCluster', 'the kubeconfig has no current cluster');
    const url = new URL(path, cluster.server);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const opts: Parameters<typeof request>[1] = {
      method,
      headers: {
        Accept: 'application/json',
        ...(payload === undefined ? {} : { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
      },
      timeout: REQUEST_TIMEOUT_MS,
    };
    await this.config.applyToHTTPSOptions(opts);
    const res = await roundTrip(url, opts, payload);
    if (res.status >= 400 && !(res.status === 404 && options.allow404 === true)) throw toApiError(method, path, res);
    return res;
  }
}

function refOf(obj: KubeObject): ObjectRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
}

function withKind(list: KubeList, type: TypeRef): KubeList {
  return { ...list, items: list.items.map((item) => ({ ...item, apiVersion: type.apiVersion, kind: type.kind })) };
}

function toApiError(method: string, path: string, res: Response): KubeApiError {
  const status = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as { reason?: string; message?: string };
  return new KubeApiError(res.status, status.reason ?? 'Unknown', `${method} ${path}: ${status.message ?? `HTTP ${res.status}`}`);
}

function roundTrip(url: URL, options: Parameters<typeof request>[1], payload: string | undefined): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          // not JSON (a proxy's error page): keep the text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${url.pathname} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

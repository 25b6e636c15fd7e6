// Requests to the Kubernetes API server with node:http(s) and plain JSON (no client library: the proxy only
// reads one ConfigMap). Credentials are files, re-read for every request: a ServiceAccount token is rotated
// by the kubelet, so a cached one would expire.
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { WatchProtocolError, toApiServerError } from './configmap-watch.js';
import type { ApiServerConfig } from './schema.js';

/** Options of one request. */
export interface ApiRequestOptions {
  /** Aborts the request (and a response being read); its owner's close() uses it. */
  readonly signal: AbortSignal;
  /** The socket may stay idle this long before the request fails. */
  readonly idleTimeoutMs: number;
}

/** TCP keepalive probes on long-lived watch connections (a dead peer is noticed without traffic). */
const KEEPALIVE_MS = 30_000;

export class ApiServerClient {
  private readonly url: URL;

  constructor(private readonly config: ApiServerConfig) {
    this.url = new URL(config.url);
  }

  /** Where requests go (for logs). */
  get server(): string {
    return this.url.origin;
  }

  /** GET `path` and parse the JSON body; ApiServerError on an error status. */
  async getJson(path: string, options: ApiRequestOptions): Promise<unknown> {
    const res = await this.open(path, options);
    res.setEncoding('utf8');
    let body = '';
    for await (const chunk of res) body += chunk as string;
    try {
      return JSON.parse(body) as unknown;
    } catch (err: unknown) {
      throw new WatchProtocolError(`GET ${path}: the response is not JSON`, { cause: err });
    }
  }

  /** PATCH `path` with a JSON merge patch; resolves once the server answered 200, ApiServerError otherwise. */
  async mergePatch(path: string, patch: unknown, options: ApiRequestOptions): Promise<void> {
    const body = JSON.stringify(patch);
    const requestOptions = await this.requestOptions(options, { method: 'PATCH', contentType: 'application/merge-patch+json' });
    const target = new URL(path, this.url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    await new Promise<void>((resolve, reject) => {
      const req = send(target, requestOptions, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(toApiServerError(res.statusCode ?? 0, text, `PATCH ${target.pathname}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`PATCH ${target.pathname}: no answer for ${options.idleTimeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * GET `path` and hand over the response once the server answered 200 (a watch: the body is a stream of
   * JSON lines the caller reads); ApiServerError on an error status.
   */
  async open(path: string, options: ApiRequestOptions): Promise<IncomingMessage> {
    const requestOptions = await this.requestOptions(options);
    const target = new URL(path, this.url);
    return new Promise((resolve, reject) => {
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req: ClientRequest = send(target, requestOptions, (res) => {
        if (res.statusCode === 200) {
          resolve(res);
          return;
        }
        res.setEncoding('utf8');
        let body = '';
        res.on('data', (chunk: string) => (body += chunk));
        res.on('error', reject);
        res.on('end', () => reject(toApiServerError(res.statusCode ?? 0, body, `GET ${target.pathname}`)));
      });
      req.on('socket', (socket) => socket.setKeepAlive(true, KEEPALIVE_MS));
      req.on('timeout', () => req.destroy(new Error(`GET ${target.pathname}: no data for ${options.idleTimeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  private async requestOptions(options: ApiRequestOptions, write?: { method: 'PATCH'; contentType: string }): Promise<RequestOptions> {
    const { caFile, tokenFile, certFile, keyFile } = this.config;
    const read = (file: string | undefined): Promise<string | undefined> =>
      file === undefined ? Promise.resolve(undefined) : readFile(file, 'utf8');
    const [ca, token, cert, key] = await Promise.all([read(caFile), read(tokenFile), read(certFile), read(keyFile)]);
    return {
      method: write?.method ?? 'GET',
      headers: {
        Accept: 'application/json',
        ...(write === undefined ? {} : { 'Content-Type': write.contentType }),
        ...(token === undefined ? {} : { Authorization: `Bearer ${token.trim()}` }),
      },
      // One connection per request, closed with it: nothing pooled outlives close().
      agent: false,
      signal: options.signal,
      timeout: options.idleTimeoutMs,
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
    };
  }
}

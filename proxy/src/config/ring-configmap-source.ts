import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { parseRingDocument, type RingDocument } from '../routing/ring-document.js';
import { ApiServerClient } from './api-server-client.js';
import {
  JsonLineDecoder,
  backoffDelayMs,
  decideRing,
  isGone,
  parseConfigMapList,
  parseWatchEvent,
  type ConfigMapObject,
  type RingDecision,
  type WatchEvent,
} from './configmap-watch.js';
import type { ApiServerConfig } from './schema.js';

export interface RingConfigMapSourceOptions {
  readonly apiServer: ApiServerConfig;
  readonly namespace: string;
  readonly name: string;
  /** Key of the ring document in the ConfigMap's data. */
  readonly key: string;
  /** The same ConfigMap mounted as a file: read at start when the API server does not answer. */
  readonly fallbackFile?: string;
  readonly log: Logger;
  /** Called with each new ring document (a different content). */
  readonly onRing: (ring: RingDocument) => void;
  /** Source of randomness for the retry jitter; Math.random when absent. */
  readonly random?: () => number;
  /** How long the API server keeps one watch open before the source renews it (± 20 %). Default 300 s. */
  readonly watchSeconds?: number;
  /** Time a list request may take. Default 10 s. */
  readonly requestTimeoutMs?: number;
}

/** The API server answered, but with no valid ring: no ConfigMap, no key, or an invalid document (`cause`). */
export class RingUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RingUnavailableError';
  }
}

/** A watch that ends sooner than this without an event counts as a failure (no tight reconnect loop). */
const MIN_HEALTHY_WATCH_MS = 1_000;
/** Beyond the watch's own timeout, how long its connection may stay silent before it is presumed dead. */
const WATCH_IDLE_MARGIN_MS = 30_000;

/**
 * Follows the ring ConfigMap through the API server: lists it (a field selector on its name, which the
 * proxies' Role allows), then watches from the list's resourceVersion, with bookmarks. A 410 Gone lists
 * again; any other failure reconnects after a jittered backoff, from the last resourceVersion seen. An
 * invalid document is logged and ignored, as with the file source: the proxy keeps routing with its ring.
 */
export class RingConfigMapSource {
  private readonly client: ApiServerClient;
  private readonly abort = new AbortController();
  private readonly collection: string;
  /** Text of the ring in use; undefined before the first. */
  private currentText: string | undefined;
  /** Where the next watch starts; '' = list first. */
  private resourceVersion = '';
  private failures = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly options: RingConfigMapSourceOptions) {
    this.client = new ApiServerClient(options.apiServer);
    this.collection = `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/configmaps`;
  }

  /** Where the ring comes from (for logs). */
  get description(): string {
    return `ConfigMap ${this.options.namespace}/${this.options.name} key ${this.options.key} via ${this.client.server}`;
  }

  /**
   * Loads the ring once and starts watching. Rejects when the ConfigMap has no valid ring yet, or when the
   * API server does not answer and there is no fallback file with a valid ring (the caller retries). What
   * the API server answers is authoritative: the fallback file serves only when it does not answer.
   */
  async start(): Promise<RingDocument> {
    let ring: RingDocument;
    try {
      ring = this.firstRing(await this.list());
    } catch (err: unknown) {
      const file = this.options.fallbackFile;
      if (this.isClosed() || file === undefined || err instanceof RingUnavailableError) throw err;
      ring = await this.readFallback(file, err);
    }
    this.running ??= this.run();
    return ring;
  }

  close(): void {
    this.abort.abort();
  }

  private isClosed(): boolean {
    return this.abort.signal.aborted;
  }

  private firstRing(decision: RingDecision): RingDocument {
    switch (decision.kind) {
      case 'new':
        this.currentText = decision.text;
        return decision.ring;
      case 'invalid':
        throw new RingUnavailableError(`invalid ring document in ${this.description}`, { cause: decision.error });
      case 'missing':
      case 'unchanged':
        throw new RingUnavailableError(`no ring in ${this.description}: ${decision.kind === 'missing' ? decision.reason : 'unchanged'}`);
    }
  }

  private async readFallback(file: string, cause: unknown): Promise<RingDocument> {
    let text: string;
    let ring: RingDocument;
    try {
      text = await readFile(file, 'utf8');
      ring = parseRingDocument(JSON.parse(text) as unknown);
    } catch (err: unknown) {
      throw new AggregateError([cause, err], `API server unavailable, and no valid ring in the fallback file ${file}`);
    }
    this.options.log.warn({ err: cause, file, version: ring.version }, 'API server unavailable; ring read from the fallback file, watch retrying');
    this.currentText = text;
    this.resourceVersion = '';
    return ring;
  }

  /** Lists the ConfigMap (zero or one item) and remembers the list's resourceVersion. */
  private async list(): Promise<RingDecision> {
    const query = new URLSearchParams({ fieldSelector: `metadata.name=${this.options.name}` });
    const body = await this.client.getJson(`${this.collection}?${query.toString()}`, {
      signal: this.abort.signal,
      idleTimeoutMs: this.options.requestTimeoutMs ?? 10_000,
    });
    const list = parseConfigMapList(body);
    this.resourceVersion = list.metadata.resourceVersion;
    return decideRing(list.items.find((item) => item.metadata.name === this.options.name), this.options.key, this.currentText);
  }

  /** List when needed, watch, repeat until closed. Never rejects. */
  private async run(): Promise<void> {
    const { log } = this.options;
    const random = this.options.random ?? Math.random;
    while (!this.isClosed()) {
      try {
        if (this.resourceVersion === '') this.use(await this.list(), 'list');
        await this.watch(random);
      } catch (err: unknown) {
        if (this.isClosed()) return;
        if (isGone(err)) this.resourceVersion = ''; // compacted: list again
        this.failures += 1;
        // The first 410 lists again at once; anything else, or a 410 again, waits.
        if (isGone(err) && this.failures === 1) {
          log.info({ ring: this.description }, 'ring watch expired; listing again');
          continue;
        }
        const retryInMs = backoffDelayMs(this.failures, random);
        log.warn({ err, ring: this.description, retryInMs }, 'ring ConfigMap watch failed; retrying');
        try {
          await delay(retryInMs, undefined, { signal: this.abort.signal });
        } catch {
          return; // closed
        }
      }
    }
  }

  /** One watch request, from `resourceVersion`, until the server ends it (resolves) or it fails (throws). */
  private async watch(random: () => number): Promise<void> {
    const seconds = Math.round((this.options.watchSeconds ?? 300) * (0.8 + 0.4 * random()));
    const query = new URLSearchParams({
      fieldSelector: `metadata.name=${this.options.name}`,
      watch: '1',
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(seconds),
    });
    const opened = Date.now();
    const res = await this.client.open(`${this.collection}?${query.toString()}`, {
      signal: this.abort.signal,
      idleTimeoutMs: seconds * 1_000 + WATCH_IDLE_MARGIN_MS,
    });
    res.setEncoding('utf8');
    const decoder = new JsonLineDecoder();
    let events = 0;
    for await (const chunk of res) {
      for (const line of decoder.push(chunk as string)) {
        this.handle(parseWatchEvent(line));
        events += 1;
        this.failures = 0;
      }
    }
    if (events === 0 && Date.now() - opened < MIN_HEALTHY_WATCH_MS) throw new Error('the API server ended the watch at once');
    this.failures = 0;
  }

  private handle(event: WatchEvent): void {
    switch (event.type) {
      case 'ERROR':
        throw event.error;
      case 'BOOKMARK':
        this.resourceVersion = event.resourceVersion;
        return;
      case 'DELETED':
        this.remember(event.object);
        this.options.log.warn({ ring: this.description }, 'ring ConfigMap deleted; keeping the current ring');
        return;
      case 'ADDED':
      case 'MODIFIED':
        this.remember(event.object);
        this.use(decideRing(event.object, this.options.key, this.currentText), event.type);
        return;
    }
  }

  private remember(object: ConfigMapObject): void {
    if (object.metadata.resourceVersion !== undefined) this.resourceVersion = object.metadata.resourceVersion;
  }

  /** Applies a decision: a new ring goes to `onRing`; anything else keeps the ring in use. */
  private use(decision: RingDecision, from: string): void {
    const { log } = this.options;
    switch (decision.kind) {
      case 'unchanged':
        return;
      case 'missing':
        log.warn({ ring: this.description, from }, `${decision.reason}; keeping the current ring`);
        return;
      case 'invalid':
        log.error({ err: decision.error, ring: this.description, from }, 'invalid ring document ignored');
        return;
      case 'new':
        this.currentText = decision.text;
        this.options.onRing(decision.ring);
        return;
    }
  }
}

// The pure parts of following a ConfigMap through the Kubernetes API server: the watch stream's JSON lines
// and events, whether a ConfigMap carries a new ring document, and the retry delays. No I/O here; the
// source (ring-configmap-source.ts) does the requests.
import { z } from 'zod';
import { parseRingDocument, type RingDocument } from '../routing/ring-document.js';

/** An error status from the API server: an HTTP error response or a watch `ERROR` event. */
export class ApiServerError extends Error {
  constructor(
    /** HTTP status code (`Status.code`); 410 means the resourceVersion is too old to watch from. */
    readonly status: number,
    /** `Status.reason` (`Expired`, `Gone`, `Forbidden`, `Unauthorized`, …). */
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ApiServerError';
  }
}

/** The API server answered something that is not a watch event or a ConfigMap list. */
export class WatchProtocolError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WatchProtocolError';
  }
}

/** 410: the watch's resourceVersion was compacted away; list again and watch from the new one. */
export const isGone = (err: unknown): boolean => err instanceof ApiServerError && err.status === 410;

// Only the fields read here; other fields pass (the API server adds fields over time).
const ConfigMapObject = z.object({
  metadata: z.object({ name: z.string(), resourceVersion: z.string().optional() }),
  data: z.record(z.string(), z.string()).optional(),
});
/** The parts of a ConfigMap this module reads. */
export type ConfigMapObject = z.infer<typeof ConfigMapObject>;

const ConfigMapList = z.object({
  metadata: z.object({ resourceVersion: z.string() }),
  items: z.array(ConfigMapObject),
});
/** A ConfigMap list (with a field selector on the name: zero or one item). */
export type ConfigMapList = z.infer<typeof ConfigMapList>;

const Status = z.object({ code: z.int().optional(), reason: z.string().optional(), message: z.string().optional() });

const Event = z.discriminatedUnion('type', [
  z.object({ type: z.enum(['ADDED', 'MODIFIED', 'DELETED']), object: ConfigMapObject }),
  z.object({ type: z.literal('BOOKMARK'), object: z.object({ metadata: z.object({ resourceVersion: z.string() }) }) }),
  z.object({ type: z.literal('ERROR'), object: Status }),
]);

/** One event of a ConfigMap watch. */
export type WatchEvent =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: ConfigMapObject }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string }
  | { readonly type: 'ERROR'; readonly error: ApiServerError };

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    throw new WatchProtocolError(`${what} is not JSON: ${text.slice(0, 200)}`, { cause: err });
  }
}

/** Parses one line of a watch response; throws WatchProtocolError when it is not an event. */
export function parseWatchEvent(line: string): WatchEvent {
  const parsed = Event.safeParse(parseJson(line, 'watch event'));
  if (!parsed.success) throw new WatchProtocolError(`unexpected watch event: ${z.prettifyError(parsed.error)}`);
  const event = parsed.data;
  switch (event.type) {
    case 'BOOKMARK':
      return { type: 'BOOKMARK', resourceVersion: event.object.metadata.resourceVersion };
    case 'ERROR': {
      const { code = 0, reason = 'Unknown', message = 'watch error' } = event.object;
      return { type: 'ERROR', error: new ApiServerError(code, reason, message) };
    }
    default:
      return { type: event.type, object: event.object };
  }
}

/** Parses a ConfigMap list response; throws WatchProtocolError when it is not one. */
export function parseConfigMapList(body: unknown): ConfigMapList {
  const parsed = ConfigMapList.safeParse(body);
  if (!parsed.success) throw new WatchProtocolError(`unexpected list response: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The API server's error response as an ApiServerError (its `Status` when the body is one). */
export function toApiServerError(status: number, body: string, what: string): ApiServerError {
  let parsed: z.infer<typeof Status> = {};
  try {
    const result = Status.safeParse(JSON.parse(body) as unknown);
    if (result.success) parsed = result.data;
  } catch {
    // not JSON (a proxy's error page): keep the status code
  }
  return new ApiServerError(status, parsed.reason ?? 'Unknown', `${what}: ${parsed.message ?? `HTTP ${status}`}`);
}

/**
 * Splits a stream of text into lines (the API server writes one JSON event per line). Takes decoded text:
 * a multi-byte character split between chunks is the caller's to join (`setEncoding('utf8')` does).
 */
export class JsonLineDecoder {
  private rest = '';

  /** The complete, non-empty lines that `chunk` finishes. */
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map((part) => part.trim()).filter((part) => part !== '');
  }
}

/** What a ConfigMap means for the ring in use. */
export type RingDecision =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'missing'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly error: unknown }
  | { readonly kind: 'new'; readonly ring: RingDocument; readonly text: string };

/**
 * Whether `configMap` carries a new ring document: the text under `key` differs from `currentText` (the
 * text of the ring in use) and is a valid document. A change of metadata only (labels, annotations) is
 * `unchanged`; an absent ConfigMap or key is `missing`; the caller keeps the ring it has in both cases.
 */
export function decideRing(configMap: ConfigMapObject | undefined, key: string, currentText: string | undefined): RingDecision {
  if (configMap === undefined) return { kind: 'missing', reason: 'the ConfigMap does not exist' };
  const text = configMap.data?.[key];
  if (text === undefined) return { kind: 'missing', reason: `the ConfigMap has no key ${key}` };
  if (text === currentText) return { kind: 'unchanged' };
  try {
    return { kind: 'new', ring: parseRingDocument(JSON.parse(text) as unknown), text };
  } catch (error: unknown) {
    return { kind: 'invalid', error };
  }
}

/**
 * Delay before retry number `failures` (1, 2, …): exponential from `baseMs`, capped at `maxMs`, with "equal
 * jitter" (between half and all of it), so that a fleet of proxies does not reconnect in step.
 */
export function backoffDelayMs(failures: number, random: () => number, baseMs = 500, maxMs = 30_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

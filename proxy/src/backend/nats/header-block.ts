// The NATS header block of a Shoal message as text and as bytes, without a MsgHdrs per message. The block is
// what MsgHdrsImpl.encode() writes for the same headers appended in the same order: `NATS/1.0\r\n`, one
// `Key: value\r\n` per value, then `\r\n`. Every value Shoal writes is ASCII (percent-encoded text, base64,
// digits), so the text's length is its byte length; the caller's `Nats-Msg-Id` is the one value checked.
// Reading takes one pass over a delivered message's raw bytes: known keys are compared as bytes, only their
// values become strings, and `Nats-Sequence` is read as a number.
import type { Message, UserProperties } from '../message.js';
import { NatsHeader, ShoalHeader } from './nats-names.js';
import { asBuffer } from '../../bytes.js';

/** A header block as headerBlockText makes it: ASCII, so its length is its byte length. */
export type HeaderBlock = string & { readonly __headerBlock: true };

/** The header JetStream de-duplicates on. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

const HEAD = 'NATS/1.0\r\n';
const line = (key: string, value: string): string => `${key}: ${value}\r\n`;
const QOS_LINES = ['', line(ShoalHeader.QoS, '1'), line(ShoalHeader.QoS, '2')] as const;
const RETAIN_LINE = line(ShoalHeader.Retain, '1');
const FORMAT_LINES = [line(ShoalHeader.PayloadFormat, '0'), line(ShoalHeader.PayloadFormat, '1')] as const;

/** Percent-encoding of free-form text: NATS header values cannot hold CR/LF and lose surrounding whitespace. */
export const encodeText = (text: string): string => encodeURIComponent(text);

/** The inverse of encodeText; undefined for a foreign publisher's malformed value (dropped, not fatal). */
export function decodeText(text: string): string | undefined {
  if (!text.includes('%')) return text; // nothing to decode: no call, no copy
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const ORIGIN_LINES_MAX = 16_384;

/**
 * `Shoal-Origin` lines by client id: a session publishes under one id, so its line is encoded once. Bounded:
 * emptied when full (a miss costs one encodeURIComponent). The backend owns one; without it every line is encoded.
 */
export class OriginLines {
  private readonly lines = new Map<string, string>();

  line(clientId: string): string {
    let cached = this.lines.get(clientId);
    if (cached === undefined) {
      if (this.lines.size >= ORIGIN_LINES_MAX) this.lines.clear();
      cached = originLine(clientId);
      this.lines.set(clientId, cached);
    }
    return cached;
  }
}

const originLine = (clientId: string): string => line(ShoalHeader.Origin, encodeText(clientId));

function userPropertyLines(properties: UserProperties): string {
  let text = '';
  for (const key of Object.keys(properties)) {
    const value = properties[key];
    if (value === undefined) continue;
    const encodedKey = encodeText(key);
    for (const one of Array.isArray(value) ? value : [value]) {
      text += line(ShoalHeader.UserProperty, `${encodedKey}=${encodeText(one)}`);
    }
  }
  return text;
}

/** The lines of a message's Shoal headers, in the order the block carries them ('' for none). */
function shoalLines(message: Message, origins: OriginLines | undefined): string {
  let text = QOS_LINES[message.qos];
  if (message.retain) text += RETAIN_LINE;
  if (message.expiresAtMs !== undefined) text += line(ShoalHeader.ExpiresAt, String(Math.trunc(message.expiresAtMs)));
  const origin = message.originClientId;
  if (origin !== undefined) text += origins === undefined ? originLine(origin) : origins.line(origin);
  const p = message.properties;
  if (p === undefined) return text;
  if (p.payloadFormatIndicator !== undefined) text += FORMAT_LINES[p.payloadFormatIndicator ? 1 : 0];
  if (p.contentType !== undefined) text += line(ShoalHeader.ContentType, encodeText(p.contentType));
  if (p.responseTopic !== undefined) text += line(ShoalHeader.ResponseTopic, encodeText(p.responseTopic));
  if (p.correlationData !== undefined) {
    const data = p.correlationData;
    text += line(ShoalHeader.CorrelationData, asBuffer(data).toString('base64'));
  }
  if (p.userProperties !== undefined) text += userPropertyLines(p.userProperties);
  return text;
}

/**
 * The header block of `message` (plus `Nats-Msg-Id: <msgId>` last, when given) as ASCII text; undefined when
 * there is nothing to say (a bare QoS 0, non-retained message). Throws on a msgId NATS cannot carry.
 */
export function headerBlockText(message: Message, msgId?: string, origins?: OriginLines): HeaderBlock | undefined {
  let lines = shoalLines(message, origins);
  if (msgId !== undefined) {
    const value = msgId.trim();
    if (/[\r\n\u0080-\uffff]/.test(value)) throw new Error('a message id must be ASCII without CR or LF');
    lines += line(MSG_ID_HEADER, value);
  }
  return lines === '' ? undefined : (`${HEAD}${lines}\r\n` as HeaderBlock);
}

/**
 * A header block of arbitrary `[key, value]` pairs, in order (foreign headers, tests). Throws on a key or value a
 * header cannot carry, or on non-ASCII text.
 */
export function headerBlockOf(pairs: readonly (readonly [string, string])[]): HeaderBlock {
  let lines = '';
  for (const [key, value] of pairs) {
    if (!/^[!-9;-~]+$/.test(key)) throw new Error(`'${key}' cannot be a header name`);
    if (/[\r\n\u0080-\uffff]/.test(value)) throw new Error(`the value of ${key} must be ASCII without CR or LF`);
    lines += line(key, value.trim());
  }
  return `${HEAD}${lines}\r\n` as HeaderBlock;
}

/** The `[key, value]` pairs of a block made by headerBlockText, in order (for the MsgHdrs of cold paths). */
export function headerPairs(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const one of text.split('\r\n').slice(1)) {
    const colon = one.indexOf(': ');
    if (colon > 0) pairs.push([one.slice(0, colon), one.slice(colon + 2)]);
  }
  return pairs;
}

/** The first value of each Shoal header a message carries (all of them for user properties). */
export interface ShoalHeaderValues {
  qos?: string;
  retain?: string;
  expiresAt?: string;
  origin?: string;
  payloadFormat?: string;
  contentType?: string;
  responseTopic?: string;
  correlationData?: string;
  userProperties?: string[];
  sequence?: number;
}

type Field = keyof ShoalHeaderValues;

/** The headers both readers look for (readHeaderBlock on bytes, readHeaders on a MsgHdrs), most frequent first. */
const HEADER_FIELDS: readonly (readonly [string, Field])[] = [
  [NatsHeader.Sequence, 'sequence'],
  [ShoalHeader.QoS, 'qos'],
  [ShoalHeader.Origin, 'origin'],
  [ShoalHeader.Retain, 'retain'],
  [ShoalHeader.ExpiresAt, 'expiresAt'],
  [ShoalHeader.UserProperty, 'userProperties'],
  [ShoalHeader.PayloadFormat, 'payloadFormat'],
  [ShoalHeader.ContentType, 'contentType'],
  [ShoalHeader.ResponseTopic, 'responseTopic'],
  [ShoalHeader.CorrelationData, 'correlationData'],
];

/** The keys as bytes, for readHeaderBlock. */
const KEYS: readonly { readonly bytes: Buffer; readonly field: Field }[] = HEADER_FIELDS.map(([key, field]) => ({ bytes: Buffer.from(key, 'latin1'), field }));
const FIELD_OF_KEY: ReadonlyMap<string, Field> = new Map(HEADER_FIELDS);

/** The ShoalHeaderValues field a header key fills; undefined for a header Shoal does not read. */
export function headerField(key: string): keyof ShoalHeaderValues | undefined {
  return FIELD_OF_KEY.get(key);
}

function keyAt(b: Buffer, start: number, end: number): Field | undefined {
  const length = end - start;
  for (const key of KEYS) {
    if (key.bytes.length === length && sameBytes(b, start, key.bytes)) return key.field;
  }
  return undefined;
}

/** Whether `b` holds `key` at `start` (a loop: the keys are short, a native compare costs more to call). */
function sameBytes(b: Buffer, start: number, key: Buffer): boolean {
  for (let i = 0; i < key.length; i++) if (b[start + i] !== key[i]) return false;
  return true;
}

/** A value as MsgHdrsImpl.decode reads it: UTF-8, trimmed; one-byte values without a copy. */
function valueAt(b: Buffer, from: number, to: number): string {
  const [start, end] = trimmed(b, from, to);
  const first = b[start] ?? 0;
  if (end - start === 1 && first > 0x20 && first < 0x7f) return String.fromCharCode(first);
  return b.toString(undefined, start, end).trim(); // UTF-8 by Buffer#toString's shortest path
}

/** The bytes in [start, end) read as a decimal number: digits only, at most 15; undefined otherwise. */
export function digitsIn(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (start >= end || end - start > 15) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const digit = (bytes[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    n = n * 10 + digit;
  }
  return n;
}

/** [start, end) without the spaces around it. */
function trimmed(b: Buffer, start: number, end: number): [number, number] {
  while (start < end && b[start] === 0x20) start++;
  while (end > start && b[end - 1] === 0x20) end--;
  return [start, end];
}

/**
 * Reads the Shoal headers (and `Nats-Sequence`) of a raw header block in one pass, as MsgHdrsImpl.decode
 * would see them: lines split at CRLF, the first (status) line skipped, keys matched exactly, values trimmed,
 * lines without a colon ignored.
 */
export function readHeaderBlock(bytes: Uint8Array): ShoalHeaderValues {
  const b = asBuffer(bytes);
  const v: ShoalHeaderValues = {};
  const n = b.length;
  let at = lineEnd(b, 0, n) + 2;
  // One loop over the bytes (cheaper than two native indexOf calls per line for blocks this small).
  while (at < n) {
    const start = at;
    let colon = -1;
    while (at < n && (b[at] !== 0x0d || b[at + 1] !== 0x0a)) {
      if (colon < 0 && b[at] === 0x3a) colon = at;
      at++;
    }
    const field = colon < 0 ? undefined : keyAt(b, start, colon);
    if (field !== undefined) readField(v, field, b, colon + 1, at);
    at += 2;
  }
  return v;
}

function readField(v: ShoalHeaderValues, field: Field, b: Buffer, start: number, end: number): void {
  if (field === 'userProperties') {
    (v.userProperties ??= []).push(valueAt(b, start, end));
  } else if (field === 'sequence') {
    v.sequence ??= digitsIn(b, ...trimmed(b, start, end)) ?? Number.parseInt(valueAt(b, start, end), 10);
  } else {
    v[field] ??= valueAt(b, start, end);
  }
}

/** Index of the CRLF ending the line that starts at `from` (`n` when there is none). */
function lineEnd(b: Buffer, from: number, n: number): number {
  let at = from;
  while (at < n && (b[at] !== 0x0d || b[at + 1] !== 0x0a)) at++;
  return at;
}

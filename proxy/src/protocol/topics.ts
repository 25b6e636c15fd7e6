// MQTT topic names and topic filters (MQTT 5.0 §4.7, shared subscriptions §4.8.2). Pure functions:
// validation at the edge, wildcard matching, and parsing of `$share/<group>/<filter>`.
//
// Strings arrive here already decoded from UTF-8. A decoder that is not fatal (TextDecoder's
// default, Buffer#toString) replaces every ill-formed sequence with U+FFFD, so the original bytes
// are lost by the time we see the string. We therefore reject U+FFFD outright: a well-formed topic
// almost never needs it, and accepting it would silently turn distinct invalid topics into one
// valid one [MQTT-1.5.4-1]. Lone UTF-16 surrogates (which no decoder produces, but code can) are
// rejected for the same reason. Ill-formed UTF-8 and U+0000 make the whole packet a Malformed Packet
// (0x81, MQTT 5 §1.5.4), not a well-formed topic the server declines (0x90 / 0x8F).
//
// Two more rules come from carrying topics as NATS subjects (routing/subject-mapping.ts, as nats-server's MQTT
// does): whitespace and DEL cannot appear in a subject, and a level that is exactly `*` or `>` would become a
// NATS wildcard token, widening a subscription (or a publish) beyond what MQTT means. Both are refused here,
// at the edge, with the topic reason codes.
import { ProtocolError } from '../errors.js';
import { ReasonCode } from './reason-codes.js';

/** Limits a topic name or filter must respect (see `limits` in the proxy configuration). */
export type TopicLimits = { maxTopicLengthBytes: number; maxTopicLevels: number };

/** A `$share/<group>/<filter>` subscription, split into its share name and its topic filter. */
export type SharedSubscription = { group: string; filter: string };

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;
const NUL = 0x0000;
const REPLACEMENT = 0xfffd;
const MALFORMED = ReasonCode.MalformedPacket;
const STAR = 0x2a;
const GREATER = 0x3e;

/** Whitespace and DEL, which a NATS subject cannot hold. */
function isSubjectBreaking(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b || c === 0x7f;
}

/** A level `*` or `>` alone: literal in MQTT, a wildcard token in NATS. */
function isNatsWildcardLevel(text: string, i: number, c: number): boolean {
  if (c !== STAR && c !== GREATER) return false;
  const aloneBefore = i === 0 || text.charCodeAt(i - 1) === SLASH;
  const aloneAfter = i === text.length - 1 || text.charCodeAt(i + 1) === SLASH;
  return aloneBefore && aloneAfter;
}
const SHARE_PREFIX = '$share/';

type Kind = 'name' | 'filter';

/**
 * UTF-8 length of the character starting at code unit i: 1 to 3, or 4 for a surrogate pair (counted
 * on its high half); -1 for a lone surrogate, which no UTF-8 sequence can produce.
 */
function utf8Width(text: string, i: number, c: number): number {
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = text.charCodeAt(i + 1); // NaN past the end
    return next >= 0xdc00 && next <= 0xdfff ? 4 : -1;
  }
  return c >= 0xdc00 && c <= 0xdfff ? -1 : 3;
}

/**
 * Checks what topic names and filters have in common, in one pass over the UTF-16 code units:
 * not empty, no U+0000, no U+FFFD, no lone surrogate, the UTF-8 length and level count within limits.
 */
function checkCommon(text: string, limits: TopicLimits, code: ReasonCode, kind: Kind): void {
  if (text.length === 0) {
    throw new ProtocolError(code, `topic ${kind} must not be empty`); // [MQTT-4.7.3-1]
  }
  let bytes = 0;
  let levels = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SLASH) levels++;
    else if (c === NUL) throw new ProtocolError(MALFORMED, `topic ${kind} must not contain U+0000`); // [MQTT-1.5.4-2] [MQTT-4.7.3-2]
    else if (isSubjectBreaking(c)) throw new ProtocolError(code, `topic ${kind} must not contain whitespace or DEL`);
    else if (isNatsWildcardLevel(text, i, c)) throw new ProtocolError(code, `a topic ${kind} level must not be '*' or '>' alone`);
    else if (c === REPLACEMENT) {
      // What a lenient UTF-8 decoder leaves for ill-formed input; see the file header. [MQTT-1.5.4-1]
      throw new ProtocolError(MALFORMED, `topic ${kind} holds U+FFFD (invalid UTF-8)`);
    }
    const width = utf8Width(text, i, c);
    if (width < 0) throw new ProtocolError(MALFORMED, `topic ${kind} holds a lone surrogate`); // [MQTT-1.5.4-1]
    if (width === 4) i++;
    bytes += width;
  }
  if (bytes > limits.maxTopicLengthBytes) {
    throw new ProtocolError(code, `topic ${kind} is ${bytes} bytes, more than ${limits.maxTopicLengthBytes}`);
  }
  if (levels > limits.maxTopicLevels) {
    throw new ProtocolError(code, `topic ${kind} has ${levels} levels, more than ${limits.maxTopicLevels}`);
  }
}

/** Validates the topic name of a PUBLISH (or a will); throws ProtocolError(TopicNameInvalid). */
export function validateTopicName(topic: string, limits: TopicLimits): void {
  checkCommon(topic, limits, ReasonCode.TopicNameInvalid, 'name');
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === PLUS || c === HASH) {
      // [MQTT-3.3.2-2] [MQTT-4.7.0-1]
      throw new ProtocolError(ReasonCode.TopicNameInvalid, 'topic name must not contain wildcards');
    }
  }
}

/** Validates a topic filter of a SUBSCRIBE or UNSUBSCRIBE; throws ProtocolError(TopicFilterInvalid). */
export function validateTopicFilter(filter: string, limits: TopicLimits): void {
  checkCommon(filter, limits, ReasonCode.TopicFilterInvalid, 'filter');
  const last = filter.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = filter.charCodeAt(i);
    if (c !== PLUS && c !== HASH) continue;
    const aloneBefore = i === 0 || filter.charCodeAt(i - 1) === SLASH;
    const aloneAfter = i === last || filter.charCodeAt(i + 1) === SLASH;
    if (c === HASH && (!aloneBefore || i !== last)) {
      // [MQTT-4.7.1-2]
      throw new ProtocolError(ReasonCode.TopicFilterInvalid, "'#' must be the last level and alone in it");
    }
    if (c === PLUS && (!aloneBefore || !aloneAfter)) {
      // [MQTT-4.7.1-3]
      throw new ProtocolError(ReasonCode.TopicFilterInvalid, "'+' must occupy a whole level");
    }
  }
}

/**
 * Splits `$share/<group>/<filter>` into share name and filter; returns undefined for any filter not
 * starting with `$share/`. Throws ProtocolError(TopicFilterInvalid) for a malformed shared form.
 * The returned filter still needs validateTopicFilter.
 */
export function parseSharedSubscription(filter: string): SharedSubscription | undefined {
  if (!filter.startsWith(SHARE_PREFIX)) return undefined;
  const rest = filter.slice(SHARE_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash === -1) {
    throw new ProtocolError(ReasonCode.TopicFilterInvalid, 'shared subscription has no topic filter'); // [MQTT-4.8.2-2]
  }
  const group = rest.slice(0, slash);
  if (group.length === 0) {
    throw new ProtocolError(ReasonCode.TopicFilterInvalid, 'share name must not be empty'); // [MQTT-4.8.2-1]
  }
  if (group.includes('+') || group.includes('#')) {
    throw new ProtocolError(ReasonCode.TopicFilterInvalid, "share name must not contain '+' or '#'"); // [MQTT-4.8.2-2]
  }
  const inner = rest.slice(slash + 1);
  if (inner.length === 0) {
    throw new ProtocolError(ReasonCode.TopicFilterInvalid, 'shared subscription has an empty topic filter'); // [MQTT-4.8.2-2]
  }
  return { group, filter: inner };
}

/**
 * MQTT matching of a topic name against a (valid, non-shared) topic filter: `+` matches exactly one
 * level, possibly empty; `#` matches its parent and any number of levels below it.
 */
export function topicMatchesFilter(topic: string, filter: string): boolean {
  const first = filter.charCodeAt(0);
  if (topic.charCodeAt(0) === DOLLAR && (first === PLUS || first === HASH)) {
    return false; // [MQTT-4.7.2-1]
  }
  const t = topic.split('/');
  const f = filter.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true; // [MQTT-4.7.1-2] also matches the parent level
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return t.length === f.length;
}

/** True when the filter holds a wildcard (`+` or `#`), i.e. it can match more than one topic. */
export function isWildcardFilter(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

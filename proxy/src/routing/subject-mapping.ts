// The one module that owns the MQTT topic ↔ NATS subject scheme. Byte-compatible with nats-server's
// own MQTT mapping (`mqttToNATSSubjectConversion` / `natsSubjectToMQTTTopic` in server/mqtt.go), so
// a backend service reading `mqtt.>` with any NATS client sees the subjects nats-server would use.
//
// Per MQTT level, joined with `.`:
//   - an empty level becomes the token `/`   (`/a` → `/.a`, `a//b` → `a./.b`, `a/` → `a./`, `/` → `/./`)
//   - a literal `.` becomes `//`             (`a.b/c` → `a//b.c`, `.` → `//`)
//   - in filters `+` → `*` and `#` → `>`
// Whitespace (space, \t, \n, \r, \f) and DEL cannot appear in a NATS subject; such topics are
// rejected, as nats-server rejects them. MQTT levels that are exactly `*` or `>` are not escaped
// (nats-server does not either); see docs/ring.md.
import { ProtocolError } from '../errors.js';
import { ReasonCode } from '../protocol/reason-codes.js';

/** Prefix of every live subject a shard carries for MQTT traffic: `mqtt.<subject>`. */
export const LIVE_SUBJECT_PREFIX = 'mqtt.';

const SLASH = 0x2f;
const DOT = 0x2e;
const PLUS = 0x2b;
const HASH = 0x23;

/** Characters a NATS subject cannot hold (the protocol splits on them): space, \t, \n, \r, \f, DEL. */
function isUnsupported(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x7f;
}

/** What a character of a topic or filter (other than `/`) becomes in a subject, when not itself. */
function replacement(c: number, wildcards: boolean): string | undefined {
  if (c === DOT) return '//';
  if (wildcards && c === PLUS) return '*';
  if (wildcards && c === HASH) return '>';
  return undefined;
}

/** topicToSubject and the first subject of filterToSubjects; copies runs of plain characters whole. */
function convert(text: string, wildcards: boolean, code: ReasonCode): string {
  if (text.length === 0) {
    throw new ProtocolError(code, 'an empty topic has no NATS subject'); // [MQTT-4.7.3-1]
  }
  let out = '';
  let run = 0; // start of the current run of characters copied unchanged
  let levelStart = true; // at the first character of a level
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SLASH) {
      out += text.slice(run, i) + (levelStart ? '/.' : '.'); // an empty level becomes the token '/'
      run = i + 1;
      levelStart = true;
      continue;
    }
    levelStart = false;
    if (isUnsupported(c)) {
      throw new ProtocolError(code, 'whitespace and DEL cannot be carried in a NATS subject');
    }
    const replaced = replacement(c, wildcards);
    if (replaced !== undefined) {
      out += text.slice(run, i) + replaced;
      run = i + 1;
    }
  }
  out += text.slice(run);
  return levelStart ? `${out}/` : out; // a trailing empty level
}

/** The NATS subject (without LIVE_SUBJECT_PREFIX) of a valid MQTT topic name. */
export function topicToSubject(topic: string): string {
  return convert(topic, false, ReasonCode.TopicNameInvalid);
}

/**
 * The NATS subjects (without LIVE_SUBJECT_PREFIX) that together match what a valid, non-shared MQTT
 * topic filter matches: `+` → `*`, `#` → `>`, and for `<parent>/#` also `<parent>`, because MQTT's
 * `a/#` matches `a` and NATS's `a.>` does not. `#` alone gives `['>']`.
 */
export function filterToSubjects(filter: string): string[] {
  const subject = convert(filter, true, ReasonCode.TopicFilterInvalid);
  if (filter.length > 1 && filter.endsWith('/#')) {
    const parent = filter.slice(0, -2);
    return [subject, parent.length === 0 ? '/' : convert(parent, true, ReasonCode.TopicFilterInvalid)];
  }
  return [subject];
}

/**
 * The MQTT topic name of a NATS subject (without LIVE_SUBJECT_PREFIX): the inverse of
 * topicToSubject, so plain NATS publishers reach MQTT subscribers. Follows nats-server byte for
 * byte, including on subjects no MQTT topic produces: `/.` → `/`, `//` → `.`, `.` → `/`, and any
 * other `/` is dropped.
 */
export function subjectToTopic(subject: string): string {
  let out = '';
  let run = 0; // start of the current run of characters copied unchanged
  const end = subject.length - 1;
  for (let i = 0; i <= end; i++) {
    const c = subject.charCodeAt(i);
    if (c === DOT) {
      out += `${subject.slice(run, i)}/`;
      run = i + 1;
    } else if (c === SLASH) {
      const next = i < end ? subject.charCodeAt(i + 1) : 0;
      out += subject.slice(run, i);
      if (next === DOT) out += '/';
      else if (next === SLASH) out += '.';
      if (next === DOT || next === SLASH) i++;
      run = i + 1;
    }
  }
  return out + subject.slice(run);
}

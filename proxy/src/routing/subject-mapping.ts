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

/** Characters a NATS subject cannot hold (the protocol splits on them): space, \t, \n, \r, \f, DEL. */
function isUnsupported(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x7f;
}

function convert(text: string, wildcards: boolean, code: ReasonCode): string {
  if (text.length === 0) {
    throw new ProtocolError(code, 'an empty topic has no NATS subject'); // [MQTT-4.7.3-1]
  }
  let out = '';
  let levelStart = true; // at the first character of a level
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SLASH) {
      out += levelStart ? '/.' : '.'; // an empty level becomes the token '/'
      levelStart = true;
      continue;
    }
    levelStart = false;
    if (c === DOT) {
      out += '//';
    } else if (isUnsupported(c)) {
      throw new ProtocolError(code, 'whitespace and DEL cannot be carried in a NATS subject');
    } else if (wildcards && c === 0x2b) {
      out += '*';
    } else if (wildcards && c === 0x23) {
      out += '>';
    } else {
      out += text.charAt(i);
    }
  }
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
  const end = subject.length - 1;
  for (let i = 0; i <= end; i++) {
    const c = subject.charCodeAt(i);
    if (c === DOT) {
      out += '/';
    } else if (c === SLASH) {
      if (i < end) {
        const next = subject.charCodeAt(i + 1);
        if (next === DOT) {
          out += '/';
          i++;
        } else if (next === SLASH) {
          out += '.';
          i++;
        }
      }
    } else {
      out += subject.charAt(i);
    }
  }
  return out;
}

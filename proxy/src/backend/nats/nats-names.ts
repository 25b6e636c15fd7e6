// The one module that owns Shoal's NATS naming: stream names, the subjects messages are stored and
// carried on, queue group names and the `Shoal-…` headers. Subjects here take the NATS subject of a
// topic (routing/subject-mapping.ts) and add the prefix of their role.
//
//   live       mqtt.<subject>              what subscribers read; QoS 0 is published here directly
//   stored     $SHOAL.msgs.<subject>       QoS ≥ 1 publishes; SHOAL_MSGS stores them and RePublishes
//                                          them to mqtt.<subject> with the `Nats-Sequence` header
//   retained   $SHOAL.retained.<subject>   SHOAL_RETAINED, one message per subject
import { createHash } from 'node:crypto';
import { LIVE_SUBJECT_PREFIX } from '../../routing/subject-mapping.js';

export { LIVE_SUBJECT_PREFIX };

/** Stream of stored (QoS ≥ 1) messages, one per shard. */
export const MESSAGES_STREAM = 'SHOAL_MSGS';
/** Stream of retained messages, one per shard, at most one message per subject. */
export const RETAINED_STREAM = 'SHOAL_RETAINED';

/** Prefix of the subjects SHOAL_MSGS captures. */
export const STORED_SUBJECT_PREFIX = '$SHOAL.msgs.';
/** Prefix of the subjects SHOAL_RETAINED captures. */
export const RETAINED_SUBJECT_PREFIX = '$SHOAL.retained.';

/** Subjects captured by SHOAL_MSGS. */
export const STORED_SUBJECTS = `${STORED_SUBJECT_PREFIX}>`;
/** Subjects captured by SHOAL_RETAINED. */
export const RETAINED_SUBJECTS = `${RETAINED_SUBJECT_PREFIX}>`;
/** Where SHOAL_MSGS re-publishes what it stores: the live subjects. */
export const REPUBLISH_DESTINATION = `${LIVE_SUBJECT_PREFIX}>`;

/** `mqtt.<subject>` */
export function liveSubject(subject: string): string {
  return LIVE_SUBJECT_PREFIX + subject;
}

/** `$SHOAL.msgs.<subject>` */
export function storedSubject(subject: string): string {
  return STORED_SUBJECT_PREFIX + subject;
}

/** `$SHOAL.retained.<subject>` */
export function retainedSubject(subject: string): string {
  return RETAINED_SUBJECT_PREFIX + subject;
}

/** The topic subject of a live subject, or undefined when it is not one. */
export function subjectOfLive(live: string): string | undefined {
  return live.startsWith(LIVE_SUBJECT_PREFIX) ? live.slice(LIVE_SUBJECT_PREFIX.length) : undefined;
}

/** The topic subject of a retained subject, or undefined when it is not one. */
export function subjectOfRetained(retained: string): string | undefined {
  return retained.startsWith(RETAINED_SUBJECT_PREFIX) ? retained.slice(RETAINED_SUBJECT_PREFIX.length) : undefined;
}

/**
 * The NATS queue group of an MQTT shared subscription. NATS groups queue subscribers by name across
 * every subject a message matches, while MQTT scopes a shared subscription by (share name, filter), so
 * the name hashes both: `$share/g/a/+` and `$share/g/a/#` stay two groups, and every proxy derives the
 * same name for the same shared subscription. A queue name cannot hold whitespace; a hash never does.
 */
export function queueGroupName(shareGroup: string, filter: string): string {
  const digest = createHash('sha256').update(shareGroup).update('\u0000').update(filter).digest('base64url');
  return `shoal_${digest.slice(0, 22)}`;
}

/** Connection name every shard sees for a proxy (in `/connz`). */
export function connectionName(proxyId: string): string {
  return `shoal-proxy/${proxyId}`;
}

/** Headers carrying MQTT metadata on a NATS message; all absent for a plain QoS 0 message. */
export const ShoalHeader = {
  /** `1` or `2`; absent means QoS 0. */
  QoS: 'Shoal-Qos',
  /** `1` when the publisher set RETAIN; absent means not retained. */
  Retain: 'Shoal-Retain',
  /** Absolute expiry, epoch milliseconds (MQTT 5 Message Expiry Interval). */
  ExpiresAt: 'Shoal-Expires-At',
  /** Publisher's client id, percent-encoded (for No Local). */
  Origin: 'Shoal-Origin',
  /** `0` or `1` (MQTT 5 Payload Format Indicator). */
  PayloadFormat: 'Shoal-Payload-Format',
  /** Percent-encoded MQTT 5 Content Type. */
  ContentType: 'Shoal-Content-Type',
  /** Percent-encoded MQTT 5 Response Topic. */
  ResponseTopic: 'Shoal-Response-Topic',
  /** base64 of the MQTT 5 Correlation Data. */
  CorrelationData: 'Shoal-Correlation-Data',
  /** One header per MQTT 5 user property, in order: `<percent-encoded key>=<percent-encoded value>`. */
  UserProperty: 'Shoal-User-Property',
} as const;

/** Headers JetStream sets that Shoal reads. */
export const NatsHeader = {
  /** Stream sequence on a message re-published by SHOAL_MSGS. */
  Sequence: 'Nats-Sequence',
} as const;

// Retained messages in SHOAL_RETAINED (one message per subject). Storing replaces the subject's message;
// deleting stores an empty tombstone and then purges the subject up to and including it, so a retained
// message published meanwhile by another proxy survives. Reads use JetStream direct get: the last message
// of one subject, or batches of the one message per subject under a wildcard, paged until none is pending.
import { JetStreamError, type JetStreamClient, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { Empty } from '@nats-io/transport-node';
import type { Message } from '../message.js';
import { subjectToTopic } from '../../routing/subject-mapping.js';
import { decodeMessage, type EncodedMessage } from './message-headers.js';
import { RETAINED_STREAM, retainedSubject, subjectOfRetained } from './nats-names.js';

/** Messages per direct-get batch when reading under a wildcard. */
const BATCH_SIZE = 256;

/** A retained message read from one shard, with the time the shard stored it. */
export interface StoredRetained {
  readonly message: Message;
  readonly storedAtMs: number;
}

/** A direct-get batch that matched nothing ends with status 404 (`message not found`). */
export function isNothingFound(error: unknown): boolean {
  return error instanceof JetStreamError && (error as JetStreamError & { code?: unknown }).code === 404;
}

/** Milliseconds left before `deadlineMs` (at least 1, so a call still gets a chance to fail by itself). */
function remaining(deadlineMs: number, nowMs: number): number {
  return Math.max(1, deadlineMs - nowMs);
}

/**
 * Stores `encoded` as the retained message of `subject`, or deletes it when `remove` is set. Resolves
 * after JetStream acknowledged; the JetStream calls share one deadline.
 */
export async function writeRetained(
  link: { js: JetStreamClient; jsm(): Promise<JetStreamManager> },
  write: {
    /** NATS subject of the topic. */
    subject: string;
    /** Headers and payload; the headers object is handed to js.publish, which adds to it. */
    encoded: EncodedMessage;
    remove: boolean;
    deadlineMs: number;
    nowMs: () => number;
  },
): Promise<void> {
  const { subject, encoded, remove, deadlineMs, nowMs } = write;
  const target = retainedSubject(subject);
  const ack = await link.js.publish(target, remove ? Empty : encoded.payload, {
    timeout: remaining(deadlineMs, nowMs()),
    ...(encoded.headers === undefined ? {} : { headers: encoded.headers }),
  });
  if (ack.stream !== RETAINED_STREAM) throw new Error(`stored by stream ${ack.stream}, not ${RETAINED_STREAM}`);
  if (!remove) return;
  const jsm = await link.jsm();
  // Everything up to and including the tombstone; a later store on the subject has a higher sequence.
  await withDeadline(jsm.streams.purge(RETAINED_STREAM, { filter: target, seq: ack.seq + 1 }), deadlineMs, nowMs);
}

/** Rejects with a timeout error when `promise` has not settled by `deadlineMs`. */
export function withDeadline<T>(promise: Promise<T>, deadlineMs: number, nowMs: () => number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('deadline exceeded')), remaining(deadlineMs, nowMs()));
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function toRetained(stored: StoredMsg): StoredRetained | undefined {
  if (stored.data.length === 0) return undefined; // a tombstone not yet purged
  const subject = subjectOfRetained(stored.subject);
  if (subject === undefined) return undefined;
  const decoded = decodeMessage(subjectToTopic(subject), stored.data, stored.header);
  return { message: { ...decoded, retain: true }, storedAtMs: stored.time.getTime() };
}

/** The retained message of one subject on this shard, if any. */
export async function readRetainedSubject(jsm: JetStreamManager, subject: string): Promise<StoredRetained[]> {
  const stored = await jsm.direct.getMessage(RETAINED_STREAM, { last_by_subj: retainedSubject(subject) });
  const retained = stored === null ? undefined : toRetained(stored);
  return retained === undefined ? [] : [retained];
}

/**
 * Every retained message on this shard whose subject matches `filterSubject` (a NATS subject that may
 * hold wildcards). SHOAL_RETAINED keeps one message per subject, so all matching messages are the last
 * per subject. Stops at `deadlineMs` with an error.
 */
export async function readRetainedMatching(
  jsm: JetStreamManager,
  filterSubject: string,
  deadlineMs: number,
  nowMs: () => number,
): Promise<StoredRetained[]> {
  const found: StoredRetained[] = [];
  let seq = 1;
  for (;;) {
    if (nowMs() >= deadlineMs) throw new Error('deadline exceeded');
    const batch = await jsm.direct.getBatch(RETAINED_STREAM, {
      seq,
      next_by_subj: retainedSubject(filterSubject),
      batch: BATCH_SIZE,
    });
    let last: StoredMsg | undefined;
    await withDeadline(
      (async () => {
        for await (const stored of batch) {
          last = stored;
          const retained = toRetained(stored);
          if (retained !== undefined) found.push(retained);
        }
      })(),
      deadlineMs,
      nowMs,
    ).catch((error: unknown) => {
      batch.stop();
      if (!isNothingFound(error)) throw error;
    });
    const end: StoredMsg | undefined = last;
    if (end === undefined || end.pending <= 0) return found;
    seq = end.seq + 1;
  }
}

// Offline delivery reads SHOAL_MSGS with JetStream batch direct gets (`next_by_subj`, `batch`): no consumer,
// no server-side state per session, any replica answers. A session's filters become one or two stored
// subjects each; every subject is read from the same sequence and the batches are merged by sequence. A
// batch's last message tells how many matching messages follow it (`Nats-Num-Pending`), so the merged read is
// complete up to the smallest sequence at which a subject's batch stopped short.
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { filterToSubjects, subjectToTopic } from '../../routing/subject-mapping.js';
import type { DeliveredMessage } from '../message.js';
import type { StoredBatch } from '../message-backend.js';
import { decodeMessage } from './message-headers.js';
import { MESSAGES_STREAM, STORED_SUBJECT_PREFIX, storedSubject } from './nats-names.js';
import { isNothingFound, withDeadline } from './retained.js';

/** A stream-info answer this recent (ms) is reused for the first sequence; older ones are asked again. */
const FIRST_SEQUENCE_REUSE_MS = 100;

/** What one read needs. */
export interface StoredRead {
  readonly shardId: string;
  readonly filters: readonly string[];
  readonly afterSequence: number;
  readonly limit: number;
  readonly deadlineMs: number;
  readonly nowMs: () => number;
}

/** One subject's batch: its messages, and the sequence up to which it is complete (Infinity: to the end). */
interface SubjectBatch {
  readonly messages: readonly StoredMsg[];
  readonly completeThrough: number;
}

/** Stored subjects for a set of MQTT filters, without duplicates (`a/#` also reads `a`). */
export function storedSubjectsOf(filters: readonly string[]): string[] {
  return [...new Set(filters.flatMap((filter) => filterToSubjects(filter).map(storedSubject)))];
}

async function readSubject(jsm: JetStreamManager, subject: string, read: StoredRead): Promise<SubjectBatch> {
  const messages: StoredMsg[] = [];
  try {
    const batch = await jsm.direct.getBatch(MESSAGES_STREAM, { seq: read.afterSequence + 1, next_by_subj: subject, batch: read.limit });
    for await (const stored of batch) messages.push(stored);
  } catch (error) {
    if (!isNothingFound(error)) throw error;
  }
  const last = messages.at(-1);
  if (last === undefined) return { messages, completeThrough: Number.POSITIVE_INFINITY };
  const pending = Number.parseInt(last.header.get('Nats-Num-Pending'), 10);
  return { messages, completeThrough: pending === 0 ? Number.POSITIVE_INFINITY : last.seq };
}

function toDelivered(stored: StoredMsg, shardId: string): DeliveredMessage | undefined {
  if (!stored.subject.startsWith(STORED_SUBJECT_PREFIX)) return undefined;
  const topic = subjectToTopic(stored.subject.slice(STORED_SUBJECT_PREFIX.length));
  return { ...decodeMessage(topic, stored.data, stored.header), shardId, sequence: stored.seq };
}

/** Reads the stored messages matching `filters` after `afterSequence` (see the module comment). */
export async function readStoredMessages(jsm: JetStreamManager, read: StoredRead): Promise<StoredBatch> {
  const subjects = storedSubjectsOf(read.filters);
  const batches = await withDeadline(Promise.all(subjects.map((subject) => readSubject(jsm, subject, read))), read.deadlineMs, read.nowMs);
  const through = Math.min(...batches.map((b) => b.completeThrough));
  const bySequence = new Map<number, StoredMsg>();
  for (const batch of batches) for (const stored of batch.messages) if (stored.seq <= through) bySequence.set(stored.seq, stored);
  const ordered = [...bySequence.keys()].sort((a, b) => a - b);
  const messages: DeliveredMessage[] = [];
  for (const seq of ordered) {
    const stored = bySequence.get(seq);
    const delivered = stored === undefined ? undefined : toDelivered(stored, read.shardId);
    if (delivered !== undefined) messages.push(delivered);
  }
  const end = through === Number.POSITIVE_INFINITY;
  const readThrough = end ? Math.max(read.afterSequence, ordered.at(-1) ?? 0) : through;
  return { messages, readThrough, end };
}

/** The first and last sequence of SHOAL_MSGS on one shard, asked once for every caller waiting at the same time. */
export class StreamBounds {
  private inFlight: Promise<{ first: number; last: number }> | undefined;
  private latest: { first: number; last: number; atMs: number } | undefined;

  constructor(
    private readonly jsm: () => Promise<JetStreamManager>,
    private readonly nowMs: () => number,
  ) {}

  async get(): Promise<{ first: number; last: number }> {
    const latest = this.latest;
    if (latest !== undefined && this.nowMs() - latest.atMs <= FIRST_SEQUENCE_REUSE_MS) return latest;
    this.inFlight ??= this.ask().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async ask(): Promise<{ first: number; last: number }> {
    const atMs = this.nowMs();
    const info = await (await this.jsm()).streams.info(MESSAGES_STREAM);
    const bounds = { first: info.state.first_seq, last: info.state.last_seq };
    this.latest = { ...bounds, atMs };
    return bounds;
  }
}

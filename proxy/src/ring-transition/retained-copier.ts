// Copies the retained messages of moved topics to their new owner during a ring transition.
//
// Who runs it: the actor that runs the transition, once, after every proxy publishes to the new owners — the
// operator's ring step in Kubernetes, the local fleet's scale-out (e2e/src/fleet/scale-out.ts) here. Not each
// proxy: N proxies copying the same subjects would multiply the reads and writes by N for nothing. It lives in
// the proxy package because the proxy owns what it needs (the ring's hash, the subject mapping, the retained
// stream's names and message encoding), so both callers route exactly as the proxies do.
//
// A copy never overwrites: it is published with "expected last subject sequence 0", so JetStream refuses it when
// the new owner already stored a retained message for the subject (a proxy published a newer one there after the
// switch). Then the subject is purged on the old owner, so that a wildcard read over every shard finds it once.
// Run it after every proxy publishes to the new owners; a wildcard read between the copy and the purge of a
// subject may see it twice, and a literal read of a moved topic before its copy finds nothing.
import { jetstreamManager, jetstream, JetStreamApiError } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Message } from '../backend/message.js';
import { encodeMessage } from '../backend/nats/message-headers.js';
import { RETAINED_STREAM, retainedSubject } from '../backend/nats/nats-names.js';
import { readRetainedMatching } from '../backend/nats/retained.js';
import { HashRing } from '../routing/hash-ring.js';
import { parseRingDocument, type ShardSpec } from '../routing/ring-document.js';
import { topicToSubject } from '../routing/subject-mapping.js';

/** What a copy did. */
export interface RetainedCopyReport {
  /** Retained messages read on the old ring's shards. */
  readonly scanned: number;
  /** Of those, topics whose owner changed. */
  readonly moved: number;
  /** Copied to the new owner. */
  readonly copied: number;
  /** Not copied: the new owner already had a retained message for the topic (newer, published after the switch). */
  readonly kept: number;
}

export interface RetainedCopyOptions {
  /** The ring before the change (`previous` of the document; validated as a ring document). */
  readonly previous: unknown;
  /** The ring after the change. */
  readonly current: unknown;
  /** Bound of the whole copy. @default 60000 */
  readonly timeoutMs?: number;
  /** Connection name on the shards (their /connz shows it). @default 'shoal-retained-copier' */
  readonly name?: string;
  /** Where to dial a shard. @default the shard's ring URLs */
  readonly urlsOf?: (shard: ShardSpec) => readonly string[];
}

/** JetStream's error code for a failed "expected last subject sequence". */
const WRONG_LAST_SEQUENCE = 10071;

/** Stores `message` as the retained message of its subject unless the shard already has one; true when stored. */
async function copyIfAbsent(nc: NatsConnection, message: Message, deadlineMs: number): Promise<boolean> {
  const encoded = encodeMessage(message);
  try {
    await jetstream(nc).publish(retainedSubject(topicToSubject(message.topic)), encoded.payload, {
      expect: { lastSubjectSequence: 0 },
      timeout: Math.max(1, deadlineMs - Date.now()),
      ...(encoded.headers === undefined ? {} : { headers: encoded.headers }),
    });
    return true;
  } catch (err: unknown) {
    if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) return false;
    throw err;
  }
}

/** Copies the retained messages whose topic changed owner from `previous` to `current`. */
export async function copyMovedRetained(options: RetainedCopyOptions): Promise<RetainedCopyReport> {
  const before = HashRing.build(parseRingDocument(options.previous));
  const after = HashRing.build(parseRingDocument(options.current));
  const deadlineMs = Date.now() + (options.timeoutMs ?? 60_000);
  const connections = new Map<string, NatsConnection>();
  const link = async (shard: ShardSpec): Promise<NatsConnection> => {
    let nc = connections.get(shard.id);
    if (nc === undefined) {
      nc = await connect({ servers: [...(options.urlsOf?.(shard) ?? shard.urls)], name: options.name ?? 'shoal-retained-copier', timeout: 5_000 });
      connections.set(shard.id, nc);
    }
    return nc;
  };
  let scanned = 0;
  let moved = 0;
  let copied = 0;
  let kept = 0;
  try {
    for (const source of before.shards) {
      const jsm = await jetstreamManager(await link(source));
      const stored = await readRetainedMatching(jsm, '>', deadlineMs, () => Date.now());
      scanned += stored.length;
      for (const { message } of stored) {
        const owner = after.ownerOf(message.topic);
        if (owner.id === source.id || before.ownerOf(message.topic).id !== source.id) continue;
        moved += 1;
        if (await copyIfAbsent(await link(owner), message, deadlineMs)) copied += 1;
        else kept += 1;
        // the old owner's copy goes, or a wildcard read over every shard would find the subject twice
        await jsm.streams.purge(RETAINED_STREAM, { filter: retainedSubject(topicToSubject(message.topic)) });
      }
    }
  } finally {
    await Promise.all([...connections.values()].map((nc) => nc.close()));
  }
  return { scanned, moved, copied, kept };
}

/** Share of `topics` whose owner differs between two rings (the data a ring change moves). */
export function movedFraction(previous: unknown, current: unknown, topics: readonly string[]): number {
  const before = HashRing.build(parseRingDocument(previous));
  const after = HashRing.build(parseRingDocument(current));
  const moved = topics.filter((topic) => before.ownerOf(topic).id !== after.ownerOf(topic).id).length;
  return topics.length === 0 ? 0 : moved / topics.length;
}

// A read of the retained messages matching one filter, over every shard the routing table names for it: a
// literal filter reads its owning shard's SHOAL_RETAINED directly, a wildcard filter reads the last message per
// subject on every shard (retained.ts does the reads on one shard). All reads share one deadline.
import { BackendUnavailableError } from '../../errors.js';
import type { Clock } from '../../clock.js';
import type { RoutingTable } from '../../routing/routing-table.js';
import type { ShardSpec } from '../../routing/ring-document.js';
import { filterToSubjects, topicToSubject } from '../../routing/subject-mapping.js';
import type { Message } from '../message.js';
import { readRetainedMatching, readRetainedSubject, withDeadline, type StoredRetained } from './retained.js';
import type { ShardPool } from './shard-pool.js';

/** The shard connections a read uses: a shard that is not connected fails the read. */
type RetainedLinks = Pick<ShardPool, 'stateOf' | 'link'>;

function isWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/**
 * The retained messages matching `filter`, within `timeoutMs`. During a ring transition a topic may be on two
 * shards: the newest wins. Expired messages are left out [MQTT-3.3.2-5], and a filter starting with a wildcard
 * never matches a topic beginning with `$` [MQTT-4.7.2-1]. Rejects with BackendUnavailableError when a shard
 * cannot be read.
 */
export async function readRetainedOnShards(
  pool: RetainedLinks,
  clock: Clock,
  table: RoutingTable,
  filter: string,
  timeoutMs: number,
): Promise<readonly Message[]> {
  const deadlineMs = clock.now() + timeoutMs;
  const skipDollar = filter.startsWith('+') || filter.startsWith('#'); // [MQTT-4.7.2-1]
  const shards = table.subscriptionTargets(filter);
  const perShard = await Promise.all(shards.map((shard) => readRetainedOn(pool, clock, shard, filter, deadlineMs)));
  // During a ring transition a topic may be on two shards: keep the newest.
  const newest = new Map<string, StoredRetained>();
  for (const found of perShard.flat()) {
    const seen = newest.get(found.message.topic);
    if (seen === undefined || seen.storedAtMs < found.storedAtMs) newest.set(found.message.topic, found);
  }
  const now = clock.now();
  return [...newest.values()]
    .map((found) => found.message)
    .filter((m) => !(skipDollar && m.topic.startsWith('$')))
    .filter((m) => m.expiresAtMs === undefined || m.expiresAtMs > now); // [MQTT-3.3.2-5]
}

async function readRetainedOn(
  pool: RetainedLinks,
  clock: Clock,
  shard: ShardSpec,
  filter: string,
  deadlineMs: number,
): Promise<StoredRetained[]> {
  const link = pool.stateOf(shard.id) === 'connected' ? pool.link(shard.id) : undefined;
  const nowMs = (): number => clock.now();
  try {
    if (link === undefined) throw new Error(`shard is ${pool.stateOf(shard.id) ?? 'not in the ring'}`);
    const jsm = await withDeadline(link.jsm(), deadlineMs, nowMs);
    if (!isWildcard(filter)) {
      return await withDeadline(readRetainedSubject(jsm, topicToSubject(filter)), deadlineMs, nowMs);
    }
    const lists = await Promise.all(
      filterToSubjects(filter).map((subject) => readRetainedMatching(jsm, subject, deadlineMs, nowMs)),
    );
    return lists.flat();
  } catch (error) {
    throw new BackendUnavailableError(
      `nats:${shard.id}`,
      `reading retained messages from shard ${shard.id} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

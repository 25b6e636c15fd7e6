// Where a proxy publishes and subscribes for one ring document, including a ring transition:
// publishes always go to the new owner; until `transitionUntil`, subscriptions listen on the old
// owner too, so nothing published by a proxy that still runs the previous ring is missed. Pure: the
// caller passes the clock value and builds a new table when the document or the phase changes.
import { HashRing } from './hash-ring.js';
import type { RingDocument, ShardSpec } from './ring-document.js';

/** Union of two shard lists by id, keeping the first list's entry (and order) for a shared id. */
function unionById(first: readonly ShardSpec[], second: readonly ShardSpec[]): readonly ShardSpec[] {
  const ids = new Set(first.map((s) => s.id));
  const extra = second.filter((s) => !ids.has(s.id));
  return extra.length === 0 ? first : Object.freeze([...first, ...extra]);
}

/** The routing decisions of one ring document at one moment. */
export class RoutingTable {
  /** Version of the (current) ring. */
  readonly version: number;
  /** True while the previous ring still receives subscriptions (nowMs < transitionUntil). */
  readonly inTransition: boolean;
  /** End of the transition in epoch milliseconds, when the document has one (past or not). */
  readonly transitionUntilMs: number | undefined;
  private readonly current: HashRing;
  private readonly previous: HashRing | undefined;
  private readonly all: readonly ShardSpec[];

  /** Builds both rings of the document; nowMs decides whether the transition is still running. */
  constructor(document: RingDocument, nowMs: number) {
    this.current = HashRing.build(document);
    this.version = document.version;
    this.transitionUntilMs = document.transitionUntil === undefined ? undefined : Date.parse(document.transitionUntil);
    this.inTransition =
      document.previous !== undefined && this.transitionUntilMs !== undefined && nowMs < this.transitionUntilMs;
    this.previous = this.inTransition && document.previous !== undefined ? HashRing.build(document.previous) : undefined;
    this.all = this.previous === undefined ? this.current.shards : unionById(this.current.shards, this.previous.shards);
  }

  /** The shard a PUBLISH on this topic goes to: always the owner in the new ring. */
  publishTarget(topic: string): ShardSpec {
    return this.current.ownerOf(topic);
  }

  /** The shards a subscription on this (non-shared) filter listens on, deduplicated by id. */
  subscriptionTargets(filter: string): readonly ShardSpec[] {
    const now = this.current.shardsForFilter(filter);
    if (this.previous === undefined) return now;
    return unionById(now, this.previous.shardsForFilter(filter));
  }

  /** Every shard the proxy must stay connected to: the current ring's, plus the previous ring's during a transition. */
  allShards(): readonly ShardSpec[] {
    return this.all;
  }
}

// The one module that names Shoal's Redis keys (DESIGN.md "Names"). Everything a session owns lives under
// `shoal:v1:{<clientId>}:…`: the hash tag puts all of it on one Redis Cluster slot, so a Lua script may touch
// every key of one session atomically. The expiry index cannot be one sorted set (it would be one slot for the
// whole fleet, and a script touching it and a session would span two slots): it is sharded into `buckets` sorted
// sets `shoal:v1:expiry:{<n>}`, a client id always in the same bucket. No script touches a session and a bucket:
// each script's keys are of one slot (see redis-scripts.ts).
//
// A client id may contain `{` or `}` (MQTT allows any UTF-8): `}` first would make the tag empty and Redis would
// hash the whole key, scattering one session over several slots. `%`, `{` and `}` are percent-escaped in keys,
// which keeps the mapping one-to-one and ordinary ids readable; the empty id is `%`.

const PREFIX = 'shoal:v1:';

/** The expiry index bucket count when none is configured. It is part of the key scheme: every proxy of a fleet must use the same. */
export const DEFAULT_EXPIRY_BUCKETS = 16;

const ESCAPED = /[%{}]/;

/** The client id as it appears inside a hash tag; never empty (an empty tag would not count as one). */
export function escapeClientId(clientId: string): string {
  if (clientId === '') return '%'; // no other id escapes to a lone `%`
  if (!ESCAPED.test(clientId)) return clientId; // most ids: no new string
  return clientId.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The keys of one session; all on one cluster slot. */
export interface SessionKeys {
  /**
   * Hash: epoch, owner, openedAtMs, protocolVersion, expiryIntervalSeconds, state, disconnectedAtMs, expiresAtMs;
   * after a delete or expiry only `lastEpoch` (a tombstone).
   */
  readonly session: string;
  /** Hash: topic filter → encoded subscription. */
  readonly subscriptions: string;
  /** Hash: shard id → last delivered stream sequence. */
  readonly cursors: string;
  /** Hash: epoch, dueMs, will (encoded): the pending delayed will; `dueMs` '' and `delayMs` while armed (connected). */
  readonly will: string;
}

export function sessionKeys(clientId: string): SessionKeys {
  const base = `${PREFIX}{${escapeClientId(clientId)}}:`;
  return { session: `${base}session`, subscriptions: `${base}subs`, cursors: `${base}cursors`, will: `${base}will` };
}

/** The live proxies of the fleet: a sorted set, proxy id → time of its last heartbeat (ms). Small: one slot. */
export const PROXY_REGISTRY_KEY = `${PREFIX}proxies`;

/** The client ids whose sessions proxy `proxyId` holds connected (a set): claimed by another proxy when it dies. */
export function ownerKey(proxyId: string): string {
  return `${PREFIX}owner:{${escapeClientId(proxyId)}}`;
}

/** FNV-1a (32 bit) over the UTF-8 bytes: stable across processes and versions, unlike anything seeded. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The bucket (0 ≤ n < buckets) that holds the expiry entries of `clientId`. */
export function expiryBucketOf(clientId: string, buckets: number): number {
  return fnv1a(clientId) % buckets;
}

/** The sorted set of bucket `n`: member (entry kind and client id) → due time in ms since the epoch. */
export function expiryBucketKey(n: number): string {
  return `${PREFIX}expiry:{${n}}`;
}

/** What an expiry index entry is due for. */
export type ExpiryKind = 'will' | 'session';

const KIND_TAG: Record<ExpiryKind, string> = { will: 'w', session: 's' };

/** The sorted-set member of an entry: `w|<clientId>` or `s|<clientId>` (at most one of each per client id). */
export function expiryMember(kind: ExpiryKind, clientId: string): string {
  return `${KIND_TAG[kind]}|${clientId}`;
}

/** Reads a member back; undefined for a member this scheme did not write. */
export function parseExpiryMember(member: string): { kind: ExpiryKind; clientId: string } | undefined {
  const clientId = member.slice(2);
  if (member.startsWith('w|')) return { kind: 'will', clientId };
  if (member.startsWith('s|')) return { kind: 'session', clientId };
  return undefined;
}

/**
 * The pub/sub channel on which proxy `proxyId` hears that a client id it holds was taken by a connection on
 * another proxy (see redis-takeover-bus.ts). Pub/sub channels are not keys: the hash tag only keeps the naming
 * uniform (and would place the channel for sharded pub/sub).
 */
export function takeoverChannel(proxyId: string): string {
  return `${PREFIX}proxy:{${escapeClientId(proxyId)}}:kick`;
}

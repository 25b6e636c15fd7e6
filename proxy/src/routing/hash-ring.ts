// Consistent hashing of topics onto shards (a Karger ring with virtual nodes). Pure: no I/O, no
// clock. The specification below is normative; docs/ring.md repeats it with the golden vectors
// (ring-golden-vectors.json) that any other implementation must reproduce.
//
//   hash(s)      = MurmurHash3_x86_32(UTF-8 bytes of s, seed 0), an unsigned 32-bit integer.
//   points       = for every shard, for i in 0 .. pointCount(vnodes, weight) - 1:
//                    (hash(shardId + "#" + decimal(i)), shardId)
//                  sorted by hash, then by shard id (byte order) when two hashes are equal.
//   owner(topic) = the shard of the first point whose hash ≥ hash(routingKey(topic)); past the
//                  last point, the first point (the ring wraps).
import { ConfigError } from '../errors.js';
import type { RingCore, ShardSpec } from './ring-document.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Mixes one 32-bit block into the running hash (the body step of MurmurHash3_x86_32). */
function mixBlock(h: number, block: number): number {
  let k = Math.imul(block, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3_x86_32 of the first `length` bytes of `view`. */
function murmur3View(view: DataView, length: number, seed: number): number {
  let h = seed | 0;
  const blockEnd = length & ~3;
  for (let i = 0; i < blockEnd; i += 4) h = mixBlock(h, view.getUint32(i, true)); // blocks are little-endian
  const rest = length & 3;
  if (rest > 0) {
    let k = view.getUint8(blockEnd);
    if (rest > 1) k |= view.getUint8(blockEnd + 1) << 8;
    if (rest > 2) k |= view.getUint8(blockEnd + 2) << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3_x86_32 (Austin Appleby's reference `MurmurHash3_x86_32`), arithmetic mod 2^32: per
 * 4-byte little-endian block k: k = rotl(k×c1, 15)×c2, h = rotl(h ^ k, 13)×5 + 0xe6546b64, with
 * c1 = 0xcc9e2d51, c2 = 0x1b873593; the 1–3 tail bytes (little-endian) give h ^= rotl(k×c1, 15)×c2;
 * then h ^= length and fmix32 (h ^= h>>>16, h ×= 0x85ebca6b, h ^= h>>>13, h ×= 0xc2b2ae35,
 * h ^= h>>>16). Returns an unsigned 32-bit integer.
 */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  return murmur3View(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes.length, seed);
}

/** Hashes strings as UTF-8 through one reusable buffer (TextEncoder#encodeInto), not a new one per call. */
class StringHasher {
  private readonly encoder = new TextEncoder();
  private buffer = new Uint8Array(1024);
  private view = new DataView(this.buffer.buffer);

  hash(text: string): number {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (text.length * 3 > this.buffer.length) {
      this.buffer = new Uint8Array(text.length * 3);
      this.view = new DataView(this.buffer.buffer);
    }
    const { written } = this.encoder.encodeInto(text, this.buffer);
    return murmur3View(this.view, written, 0);
  }
}

/**
 * Number of points a shard gets: floor(vnodes × weight + 0.5), computed in IEEE-754 doubles
 * (round half up; not Python's round(), which rounds half to even).
 */
export function pointCount(vnodes: number, weight: number): number {
  return Math.floor(vnodes * weight + 0.5);
}

/**
 * The key a topic is hashed by: the whole topic when shardKeyLevels is 0 or the topic has at most
 * that many levels; otherwise its first shardKeyLevels levels joined by `/`.
 */
export function routingKey(topic: string, shardKeyLevels: number): string {
  if (shardKeyLevels <= 0) return topic;
  let slash = -1;
  for (let level = 0; level < shardKeyLevels; level++) {
    slash = topic.indexOf('/', slash + 1);
    if (slash === -1) return topic;
  }
  return topic.slice(0, slash);
}

function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/** Lexicographic comparison by UTF-16 code unit, which is byte order for the ASCII shard ids. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts (hash, shard) pairs: a pair is encoded as hash × 2^21 + rank of the shard id, exact in a double. */
const RANK_SPAN = 2 ** 21;

/** An immutable consistent-hash ring built from a RingCore; see the specification at the top. */
export class HashRing {
  /** Hash of each point, ascending. */
  private readonly points: Uint32Array;
  /** Index into `shards` of each point's shard. */
  private readonly owners: Uint32Array;
  /** One frozen single-element array per shard, returned by shardsForFilter. */
  private readonly singles: readonly (readonly ShardSpec[])[];
  private readonly hasher = new StringHasher();

  private constructor(
    /** Version of the ring document this ring was built from. */
    readonly version: number,
    /** Levels of a topic that pick its shard (0 = the whole topic). */
    readonly shardKeyLevels: number,
    /** The shards, in document order. */
    readonly shards: readonly ShardSpec[],
    points: Uint32Array,
    owners: Uint32Array,
  ) {
    this.points = points;
    this.owners = owners;
    this.singles = shards.map((shard) => Object.freeze([shard]));
  }

  /** Builds the ring of a validated RingCore (parseRingDocument guarantees what build relies on). */
  static build(core: RingCore): HashRing {
    const shards = core.shards.map((s) => Object.freeze({ id: s.id, urls: Object.freeze([...s.urls]) as string[], weight: s.weight }));
    if (shards.length === 0) throw new ConfigError('a ring needs at least one shard');
    if (shards.length > RANK_SPAN) throw new ConfigError('a ring holds at most 2^21 shards');
    // Equal hashes order by shard id: rank the shards by id.
    const byId = shards.map((shard, index) => ({ id: shard.id, index, count: pointCount(core.vnodes, shard.weight) }));
    byId.sort((a, b) => compareIds(a.id, b.id));
    const total = byId.reduce((sum, s) => sum + s.count, 0);
    if (total === 0) throw new ConfigError('a ring needs at least one point');
    const keys = new Float64Array(total);
    const hasher = new StringHasher();
    let next = 0;
    byId.forEach(({ id, count }, rank) => {
      for (let i = 0; i < count; i++) keys[next++] = hasher.hash(`${id}#${String(i)}`) * RANK_SPAN + rank;
    });
    keys.sort();
    const rankToIndex = byId.map((s) => s.index);
    const points = new Uint32Array(total);
    const owners = new Uint32Array(total);
    keys.forEach((key, p) => {
      const hash = Math.floor(key / RANK_SPAN);
      points[p] = hash;
      owners[p] = rankToIndex[key - hash * RANK_SPAN] ?? 0;
    });
    return new HashRing(core.version, core.shardKeyLevels, Object.freeze(shards), points, owners);
  }

  /** The shard that owns a topic, chosen by the topic's routing key. */
  ownerOf(topic: string): ShardSpec {
    return this.ownerOfKey(routingKey(topic, this.shardKeyLevels));
  }

  /** The shard that owns a routing key (already cut to shardKeyLevels). */
  ownerOfKey(key: string): ShardSpec {
    return this.single(key)[0] ?? unreachable();
  }

  /**
   * The shards a subscription on this (non-shared) filter must listen on: the one owner when
   * every topic the filter can match has the same routing key (a literal filter, or a filter whose
   * first shardKeyLevels levels are literal), otherwise every shard.
   */
  shardsForFilter(filter: string): readonly ShardSpec[] {
    if (!hasWildcard(filter)) return this.single(routingKey(filter, this.shardKeyLevels));
    if (this.shardKeyLevels > 0) {
      const prefix = routingKey(filter, this.shardKeyLevels);
      // prefix === filter: the filter has at most shardKeyLevels levels, one of them a wildcard.
      if (prefix !== filter && !hasWildcard(prefix)) return this.single(prefix);
    }
    return this.shards;
  }

  /** The owner of a routing key, as a frozen one-element array. */
  private single(key: string): readonly ShardSpec[] {
    const hash = this.hasher.hash(key);
    const points = this.points;
    // Binary search for the first point ≥ hash; lo === length means past the last point: wrap to 0.
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] ?? 0) < hash) lo = mid + 1;
      else hi = mid;
    }
    return this.singles[this.owners[lo === points.length ? 0 : lo] ?? 0] ?? unreachable();
  }
}

function unreachable(): never {
  throw new Error('hash ring invariant broken: a point without a shard');
}

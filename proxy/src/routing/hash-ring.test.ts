import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { topicMatchesFilter } from '../protocol/topics.js';
import { HashRing, murmur3, pointCount, routingKey } from './hash-ring.js';
import type { RingCore } from './ring-document.js';

/** The shape of ring-golden-vectors.json (see docs/ring.md). */
type GoldenVectors = {
  murmur3: { input: string; seed: number; hash: number }[];
  rings: {
    ring: RingCore;
    pointCount: number;
    firstPoints: { hash: number; shard: string }[];
    owners: { topic: string; routingKey: string; owner: string }[];
  }[];
};
// A specifier in a variable keeps the type checker from needing resolveJsonModule.
const GOLDEN_FILE = './ring-golden-vectors.json';
const golden = ((await import(GOLDEN_FILE, { with: { type: 'json' } })) as { default: GoldenVectors }).default;

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function ring(ids: string[], extra: Partial<RingCore> = {}): HashRing {
  return HashRing.build({
    version: 1,
    vnodes: 64,
    shardKeyLevels: 0,
    shards: ids.map((id) => ({ id, urls: [`nats://${id}:4222`], weight: 1 })),
    ...extra,
  });
}

/** A key `k<n>` whose hash h satisfies low < h ≤ high (found by trying n = 0, 1, …). */
function keyHashingInto(low: number, high: number): string {
  for (let n = 0; ; n++) {
    const hash = murmur3(utf8(`k${String(n)}`));
    if (hash > low && hash <= high) return `k${String(n)}`;
  }
}

describe('murmur3', () => {
  // Published MurmurHash3_x86_32 vectors (SMHasher / the reference implementation's users).
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['hello', 0, 0x248bfa47],
    ['test', 0, 0xba6bd213],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
  ])('murmur3(%j, seed %d) = %d', (input, seed, hash) => {
    expect(murmur3(utf8(input), seed)).toBe(hash);
  });

  it.each(golden.murmur3.map((v) => [v.input.length > 40 ? `${v.input.slice(0, 40)}…` : v.input, v] as const))(
    'matches the golden vector for %j',
    (_label, v) => {
      expect(murmur3(utf8(v.input), v.seed)).toBe(v.hash);
    },
  );

  it('hashes a view into a larger buffer by its own bytes only', () => {
    const big = utf8('xxhelloxx');
    expect(murmur3(big.subarray(2, 7))).toBe(0x248bfa47);
  });
});

describe('routingKey', () => {
  it.each([
    ['a/b/c', 0, 'a/b/c'],
    ['a/b/c', 1, 'a'],
    ['a/b/c', 2, 'a/b'],
    ['a/b/c', 3, 'a/b/c'],
    ['a/b/c', 9, 'a/b/c'],
    ['a', 1, 'a'],
    ['/a/b', 1, ''],
    ['/a/b', 2, '/a'],
    ['a//b', 2, 'a/'],
    ['a/', 1, 'a'],
  ])('routingKey(%j, %d) = %j', (topic, levels, key) => {
    expect(routingKey(topic, levels)).toBe(key);
  });
});

describe('pointCount', () => {
  it.each([
    [64, 1, 64],
    [64, 2, 128],
    [3, 0.5, 2], // 1.5 rounds half up
    [5, 0.5, 3], // 2.5 rounds half up (not to even)
    [1024, 0.0004, 0],
  ])('pointCount(%d, %d) = %d', (vnodes, weight, count) => {
    expect(pointCount(vnodes, weight)).toBe(count);
  });
});

describe('HashRing against the golden vectors', () => {
  it.each(golden.rings.map((r) => [r.ring.shardKeyLevels, r] as const))('shardKeyLevels %d: every owner', (_levels, r) => {
    const built = HashRing.build(r.ring);
    expect(r.owners.length).toBeGreaterThanOrEqual(40);
    for (const { topic, routingKey: key, owner } of r.owners) {
      expect({ topic, key: routingKey(topic, r.ring.shardKeyLevels), owner: built.ownerOf(topic).id }).toEqual({ topic, key, owner });
    }
  });

  it('uses a ring of 5 shards, one of weight 2, 64 vnodes, and shardKeyLevels 0 and 2', () => {
    expect(golden.rings.map((r) => r.ring.shardKeyLevels)).toEqual([0, 2]);
    for (const r of golden.rings) {
      expect(r.ring.shards.map((s) => s.weight)).toEqual([1, 1, 2, 1, 1]);
      expect(r.ring.vnodes).toBe(64);
      expect(r.pointCount).toBe(6 * 64);
    }
  });

  it('starts the ring at the golden first points', () => {
    for (const r of golden.rings) {
      const built = HashRing.build(r.ring);
      let below = -1;
      for (const { hash, shard } of r.firstPoints) {
        // A key hashing into (previous point, this point] belongs to this point's shard.
        if (hash > below) expect(built.ownerOfKey(keyHashingInto(below, hash)).id).toBe(shard);
        below = hash;
      }
    }
  });
});

describe('HashRing', () => {
  it('keeps the document order of shards and its version', () => {
    const built = HashRing.build({ version: 7, vnodes: 8, shardKeyLevels: 0, shards: [{ id: 'b', urls: ['nats://b:1'], weight: 1 }, { id: 'a', urls: ['nats://a:1'], weight: 1 }] });
    expect(built.version).toBe(7);
    expect(built.shards.map((s) => s.id)).toEqual(['b', 'a']);
  });

  it('breaks a tie between equal point hashes by shard id, whatever the document order', () => {
    // murmur3("a#62720") = murmur3("b#123206") = 2152039976, and the nearest point below it (of the
    // 262,144) is 2152010092; murmur3("tie-44136") = 2152014791 falls in between.
    const shards = (ids: string[]): RingCore['shards'] => ids.map((id) => ({ id, urls: [`nats://${id}:1`], weight: 2 }));
    expect(murmur3(utf8('a#62720'))).toBe(murmur3(utf8('b#123206')));
    for (const order of [['a', 'b'], ['b', 'a']]) {
      const built = HashRing.build({ version: 1, vnodes: 65_536, shardKeyLevels: 0, shards: shards(order) });
      expect(built.ownerOf('tie-44136').id).toBe('a');
    }
  });

  it('gives a key that hashes exactly onto a point to that point (first point ≥ the hash)', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const built = ring(ids);
    for (const id of ids) {
      for (let i = 0; i < 64; i++) expect(built.ownerOfKey(`${id}#${String(i)}`).id).toBe(id);
    }
  });

  it('wraps past the last point to the first', () => {
    // One point per shard: a key hashing above every point belongs to the lowest point's shard.
    const built = ring(['a', 'b', 'c'], { vnodes: 1 });
    const points = ['a#0', 'b#0', 'c#0'].map((p) => ({ id: p.slice(0, 1), hash: murmur3(utf8(p)) })).sort((x, y) => x.hash - y.hash);
    const last = points[points.length - 1]?.hash ?? 0;
    let key = 0;
    while (murmur3(utf8(`k${String(key)}`)) <= last) key++;
    expect(built.ownerOf(`k${String(key)}`).id).toBe(points[0]?.id);
  });

  it('routes by the first shardKeyLevels levels', () => {
    const built = ring(['a', 'b', 'c', 'd', 'e'], { shardKeyLevels: 2 });
    for (let i = 0; i < 50; i++) {
      expect(built.ownerOf(`t/${String(i)}/x/y`)).toBe(built.ownerOf(`t/${String(i)}`));
      expect(built.ownerOf(`t/${String(i)}/z`)).toBe(built.ownerOfKey(`t/${String(i)}`));
    }
  });

  it('gives every shard a share and moves keys only to a new shard', () => {
    const ids = Array.from({ length: 8 }, (_, i) => `shard-${String(i)}`);
    const before = ring(ids, { vnodes: 256 });
    const after = ring([...ids, 'shard-8'], { vnodes: 256 });
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const topic = `devices/${String(i)}/telemetry`;
      const was = before.ownerOf(topic).id;
      const now = after.ownerOf(topic).id;
      if (was !== now) expect(now).toBe('shard-8');
      counts.set(was, (counts.get(was) ?? 0) + 1);
    }
    expect(counts.size).toBe(8);
    for (const n of counts.values()) expect(n).toBeGreaterThan(20_000 / 8 / 1.5);
  });
});

describe('HashRing.shardsForFilter', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];

  it.each([
    [0, 'x/y/z', 'one'],
    [0, 'x/+/z', 'all'],
    [0, '#', 'all'],
    [1, 'x/#', 'one'],
    [1, 'x/+/b', 'one'],
    [1, 'x', 'one'],
    [1, '+', 'all'],
    [1, '+/y', 'all'],
    [1, '#', 'all'],
    [2, 'x/#', 'all'],
    [2, 'x/+', 'all'],
    [2, 'x/y/#', 'one'],
    [2, 'x/y/+/+', 'one'],
    [2, 'x/+/z', 'all'],
    [2, 'x/y', 'one'],
  ])('shardKeyLevels %d, %j → %s', (levels, filter, expected) => {
    const built = ring(ids, { shardKeyLevels: levels });
    const shards = built.shardsForFilter(filter);
    if (expected === 'all') expect(shards).toBe(built.shards);
    else expect(shards).toHaveLength(1);
  });

  it('names the owner of every topic the filter matches (property)', () => {
    const level = fc.constantFrom('a', 'b', 'c', '', 'x');
    const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));
    const filter = fc
      .tuple(fc.array(fc.oneof(level, fc.constant('+')), { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'));
    const rings = [0, 1, 2, 3].map((levels) => ring(ids, { shardKeyLevels: levels }));
    fc.assert(
      fc.property(topic, filter, fc.nat(3), (t, f, r) => {
        const built = rings[r] ?? rings[0];
        if (built === undefined || !topicMatchesFilter(t, f)) return true;
        return built.shardsForFilter(f).includes(built.ownerOf(t));
      }),
      { numRuns: 3000 },
    );
  });
});

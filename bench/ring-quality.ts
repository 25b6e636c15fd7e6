// Quality and speed of the hash ring (docs/ring.md): load spread over 16 shards, keys moved when a
// 17th shard joins, and lookup time. A benchmark that prints, not a test:
//   npx tsx bench/ring-quality.ts [topics=1000000]
// Deterministic: topics come from a seeded PRNG, so two runs differ only in the timings.
import { HashRing } from '../proxy/src/routing/hash-ring.js';
import { DEFAULT_VNODES, type RingCore } from '../proxy/src/routing/ring-document.js';

const TOPICS = Number(process.argv[2] ?? 1_000_000);
const SHARDS = 16;
const GOALS = { maxOverMean: 1.05, movedOverIdeal: 1.1, medianNs: 1000 };

/** mulberry32: a small seeded PRNG, enough to make distinct random-looking device ids. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function makeTopics(count: number, seed: number): string[] {
  const next = prng(seed);
  const topics = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const id = next().toString(36) + next().toString(36);
    topics[i] = `devices/${id}/telemetry`;
  }
  return topics;
}

function core(ids: string[], vnodes: number): RingCore {
  return { version: 1, vnodes, shardKeyLevels: 0, shards: ids.map((id) => ({ id, urls: [`nats://${id}:4222`], weight: 1 })) };
}

type Quality = { maxOverMean: number; minOverMean: number; stdDev: number; moved: number; nonMinimal: number };

/** Spread over `ids`, then the moves when `added` joins. */
function quality(topics: string[], ids: string[], added: string, vnodes: number): Quality {
  const before = HashRing.build(core(ids, vnodes));
  const after = HashRing.build(core([...ids, added], vnodes));
  const counts = new Map<string, number>(ids.map((id) => [id, 0]));
  let moved = 0;
  let nonMinimal = 0;
  for (const topic of topics) {
    const was = before.ownerOf(topic).id;
    counts.set(was, (counts.get(was) ?? 0) + 1);
    const now = after.ownerOf(topic).id;
    if (now !== was) {
      moved++;
      if (now !== added) nonMinimal++;
    }
  }
  const loads = [...counts.values()];
  const mean = topics.length / ids.length;
  const variance = loads.reduce((sum, n) => sum + (n - mean) ** 2, 0) / loads.length;
  return {
    maxOverMean: Math.max(...loads) / mean,
    minOverMean: Math.min(...loads) / mean,
    stdDev: Math.sqrt(variance) / mean,
    moved: moved / topics.length,
    nonMinimal,
  };
}

/** Per-lookup time in ns: batches of `batch` ownerOf calls, each batch timed with hrtime.bigint. */
function lookupTimes(ring: HashRing, topics: string[], batch: number): { median: number; p99: number } {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += ring.ownerOf(topics[i % topics.length] ?? '').weight; // warm up
  const perLookup: number[] = [];
  for (let start = 0; start + batch <= topics.length; start += batch) {
    const t0 = process.hrtime.bigint();
    for (let i = start; i < start + batch; i++) sink += ring.ownerOf(topics[i] ?? '').weight;
    perLookup.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  if (sink === 0) console.log('(unreachable)');
  perLookup.sort((a, b) => a - b);
  const at = (q: number): number => perLookup[Math.min(perLookup.length - 1, Math.floor(q * perLookup.length))] ?? NaN;
  return { median: at(0.5), p99: at(0.99) };
}

const fmt = (x: number, digits = 4): string => x.toFixed(digits);
const ids = Array.from({ length: SHARDS }, (_, i) => `shard-${String(i)}`);
const topics = makeTopics(TOPICS, 0x5eed);

console.log(`ring quality: ${String(TOPICS)} topics devices/<random>/telemetry, ${String(SHARDS)} shards shard-0..shard-15, vnodes ${String(DEFAULT_VNODES)} (default), Node ${process.version}`);
const q = quality(topics, ids, `shard-${String(SHARDS)}`, DEFAULT_VNODES);
const ideal = 1 / (SHARDS + 1);
console.log(`  load max/mean      ${fmt(q.maxOverMean)}   (goal ≤ ${String(GOALS.maxOverMean)})   min/mean ${fmt(q.minOverMean)}   std dev ${fmt(q.stdDev * 100, 2)}%`);
console.log(`  +1 shard: moved    ${fmt(q.moved * 100, 3)}% of topics, ideal 1/17 = ${fmt(ideal * 100, 3)}%, ratio ${fmt(q.moved / ideal)}   (goal ≤ ${String(GOALS.movedOverIdeal)}); moved elsewhere than the new shard: ${String(q.nonMinimal)}`);
const ring = HashRing.build(core(ids, DEFAULT_VNODES));
const t = lookupTimes(ring, topics, 100);
console.log(`  lookup ownerOf     median ${fmt(t.median, 0)} ns, p99 ${fmt(t.p99, 0)} ns per lookup (batches of 100)   (goal median ≤ ${String(GOALS.medianNs)} ns)`);

// Robustness: the figures depend on the shard names (the points are their hashes), so sweep vnodes
// over several naming schemes and report the worst case, which is what a default must survive.
const SCHEMES = ['shard-', 'prod-shard-', 'mqtt-eu-1-shard-', 'a-', 'fleet-7-shard-', 'x-', 'shoal-shard-', 'n'];
console.log(`\nsweep over ${String(SCHEMES.length)} shard naming schemes (${SCHEMES.map((s) => `${s}<i>`).join(', ')}), 16 → 17 shards:`);
console.log('  vnodes   worst max/mean   mean max/mean   worst moved/ideal   best moved/ideal   build ms (17 shards)   lookup median ns');
for (const vnodes of [256, 512, 1024, 2048, 4096, 8192]) {
  const results = SCHEMES.map((prefix) => {
    const schemeIds = Array.from({ length: SHARDS }, (_, i) => `${prefix}${String(i)}`);
    return quality(topics, schemeIds, `${prefix}${String(SHARDS)}`, vnodes);
  });
  const t0 = process.hrtime.bigint();
  const built = HashRing.build(core([...ids, 'shard-16'], vnodes));
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const lookup = lookupTimes(built, topics.slice(0, 200_000), 100);
  const maxes = results.map((r) => r.maxOverMean);
  const ratios = results.map((r) => r.moved / ideal);
  console.log(
    `  ${String(vnodes).padStart(6)}   ${fmt(Math.max(...maxes)).padStart(14)}   ${fmt(maxes.reduce((a, b) => a + b, 0) / maxes.length).padStart(13)}   ${fmt(Math.max(...ratios)).padStart(17)}   ${fmt(Math.min(...ratios)).padStart(16)}   ${fmt(buildMs, 1).padStart(20)}   ${fmt(lookup.median, 0).padStart(16)}`,
  );
}

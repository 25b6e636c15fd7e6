// The long fuzz run (`make fuzz`): generated hostile MQTT input (proxy/src/test-support/fuzz-inputs.ts) through the
// in-process proxy core, one connection per input, many in flight. Counts every uncaught exception and unhandled
// rejection in this process, every error the handlers logged, and every input neither answered nor closed in time.
//
//   node --expose-gc --import tsx bench/fuzz.ts [--runs 1000000] [--seed N] [--max-minutes 20] [--concurrency 64]
//
// Exits non-zero when any of those counts is above 0.
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { FuzzDriver, type FuzzOutcome } from '../proxy/src/test-support/fuzz-driver.js';
import { fuzzInput, type FuzzInput } from '../proxy/src/test-support/fuzz-inputs.js';

const crashes: string[] = [];
const rejections: string[] = [];
process.on('uncaughtException', (err) => crashes.push(err.stack ?? String(err)));
process.on('unhandledRejection', (reason) => rejections.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number`);
  return value;
}

const runs = arg('runs', 1_000_000);
const seed = arg('seed', Date.now() % 2 ** 31);
const maxMs = arg('max-minutes', 20) * 60_000;
const concurrency = arg('concurrency', 64);
/** Inputs per proxy core: a fresh one (sessions, retained messages, registry) for each batch keeps state bounded. */
const BATCH = 2_000;

const outcomes: Record<FuzzOutcome, number> = { answered: 0, closed: 0, incomplete: 0, 'truncated-reply': 0, hang: 0 };
const replies = new Map<string, number>();
const hangs: FuzzInput[] = [];
const errorLogs: string[] = [];
let done = 0;
let peakHeap = 0;
let peakExternal = 0;

/** Heap used right after a full GC (run with node --expose-gc), first and latest: the live set, to show it is flat. */
const liveHeap: number[] = [];
const gc = (globalThis as { gc?: () => void }).gc;

function sampleLiveHeap(): void {
  if (gc === undefined) return;
  gc();
  const used = process.memoryUsage().heapUsed;
  if (liveHeap.length < 2) liveHeap.push(used);
  else liveHeap[1] = used;
}

function sampleMemory(): void {
  const { heapUsed, external } = process.memoryUsage();
  peakHeap = Math.max(peakHeap, heapUsed);
  peakExternal = Math.max(peakExternal, external);
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function runBatch(batch: number, size: number): Promise<void> {
  const inputs = fc.sample(fuzzInput, { seed: seed + batch, numRuns: size });
  const driver = new FuzzDriver({ boundMs: 2_000 });
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < inputs.length; i = next++) {
      const input = inputs[i];
      if (input === undefined) continue;
      const result = await driver.run(input);
      outcomes[result.outcome] += 1;
      const first = result.replies[0] ?? '(nothing)';
      replies.set(first, (replies.get(first) ?? 0) + 1);
      if ((result.outcome === 'hang' || result.outcome === 'truncated-reply') && hangs.length < 5) hangs.push(input);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  errorLogs.push(...driver.errorLogs);
  await driver.close();
  sampleMemory();
}

const started = performance.now();
let lastReport = started;
console.log(`fuzz: up to ${runs} inputs, seed ${seed}, ${concurrency} in flight, stop after ${maxMs / 60_000} min`);
for (let batch = 0; done < runs && performance.now() - started < maxMs; batch++) {
  await runBatch(batch, Math.min(BATCH, runs - done));
  if (performance.now() - lastReport > 30_000) {
    lastReport = performance.now();
    sampleLiveHeap();
    const s = (lastReport - started) / 1000;
    console.log(`  ${done} inputs, ${s.toFixed(0)} s, ${(done / s).toFixed(0)} inputs/s, rss ${mb(process.memoryUsage().rss)}, heap ${mb(process.memoryUsage().heapUsed)}${gc === undefined ? '' : ' (after GC)'}`);
  }
}
const elapsedS = (performance.now() - started) / 1000;
sampleMemory();
sampleLiveHeap();

console.log('\nfuzz result');
console.log(`  inputs           ${done}${done < runs ? ` (stopped by the time limit; ${runs} asked)` : ''}`);
console.log(`  elapsed          ${elapsedS.toFixed(1)} s`);
console.log(`  rate             ${(done / elapsedS).toFixed(0)} inputs/s`);
console.log(`  seed             ${seed}`);
console.log(`  peak RSS         ${mb(process.resourceUsage().maxRSS * 1024)}`);
console.log(`  peak heap used   ${mb(peakHeap)} (sampled after each batch of ${BATCH}); external ${mb(peakExternal)}`);
console.log(`  live heap        ${liveHeap.length === 0 ? 'not measured (run with node --expose-gc)' : `${mb(liveHeap[0] ?? 0)} after the first 30 s, ${mb(liveHeap.at(-1) ?? 0)} at the end (after a full GC)`}`);
console.log(`  outcomes         answered ${outcomes.answered}, closed ${outcomes.closed}, incomplete ${outcomes.incomplete}, truncated reply ${outcomes['truncated-reply']}, hang ${outcomes.hang}`);
console.log(`  first replies    ${[...replies].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`  crashes          ${crashes.length} (uncaught exceptions)`);
console.log(`  unhandled rej.   ${rejections.length}`);
console.log(`  handler errors   ${errorLogs.length} (logged at level error)`);
/** Distinct failures by message and the first stack frame in the proxy. */
const distinct = new Map<string, number>();
for (const line of [...crashes, ...rejections, ...errorLogs]) {
  const key = (/"message":"([^"]*)"/.exec(line)?.[1] ?? line.split('\n')[0] ?? line) + ' @ ' + (/\/(proxy\/src\/[^:)]+:\d+)/.exec(line)?.[1] ?? '?');
  distinct.set(key, (distinct.get(key) ?? 0) + 1);
}
for (const [key, count] of distinct) console.log(`    ${count} × ${key.slice(0, 300)}`);
for (const line of [...crashes, ...rejections, ...errorLogs].slice(0, 3)) console.log(`    first seen: ${line.slice(0, 1_500)}`);
const show = (input: FuzzInput): string => JSON.stringify({ ...input, chunks: input.chunks.map((c) => Buffer.from(c).toString('hex')) });
for (const input of hangs) console.log(`    hang or truncated reply: ${show(input)}`);
const failures = crashes.length + rejections.length + errorLogs.length + outcomes.hang + outcomes['truncated-reply'];
console.log(`  failures         ${failures}`);
process.exitCode = failures > 0 ? 1 : 0;

// The Redis session store's share of a CONNECT (issue 3 asks for ≥ 3,000 CONNECT/s per proxy with the Redis
// session): from one process, `concurrency` sessions at a time, like a proxy under a reconnect storm.
// A benchmark that prints, not a test:
//
//   npx tsx bench/session-store.ts [--sessions N] [--concurrency C]
//
// Defaults: 20,000 sessions, concurrency 100. Starts its own redis-server (free port, temporary directory, no
// persistence) and stops it at the end, on an error and on SIGINT/SIGTERM. Scenarios, each over every session:
//   new     open (first time) + save (as the connection leaves): what a new persistent session costs
//   resume  open of a stored session (the record read back and decoded): what a reconnect costs before CONNACK
// Per scenario: ops/s, latency p50/p99 of one op (ms), and this process's CPU per op (the proxy-side cost).
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startRedisServer, type RunningRedisServer } from '../e2e/src/processes/redis-server.js';
import { RedisSessionStore } from '../proxy/src/sessions/redis-session-store.js';
import { openOptions, sampleRecord } from '../proxy/src/sessions/session-samples.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
  return value;
}

const SESSIONS = flag('sessions', 20_000);
const CONCURRENCY = flag('concurrency', 100);
const PROXY = 'bench-proxy';

interface Result {
  readonly name: string;
  readonly ops: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly cpuMicros: number;
}

/** Runs `op` for i = 0..count-1, `concurrency` at a time, timing each. */
async function measure(name: string, count: number, op: (i: number) => Promise<void>): Promise<Result> {
  const latenciesMs = new Array<number>(count);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const t = performance.now();
      await op(i);
      latenciesMs[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { name, ops: count, seconds, latenciesMs, cpuMicros: used.user + used.system };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function report(result: Result): string {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const cols = [
    result.name.padEnd(8),
    `${Math.round(result.ops / result.seconds).toLocaleString('en-US')} ops/s`.padStart(14),
    `p50 ${percentile(sorted, 50).toFixed(2)} ms`.padStart(14),
    `p99 ${percentile(sorted, 99).toFixed(2)} ms`.padStart(14),
    `client CPU ${Math.round(result.cpuMicros / result.ops)} µs/op`.padStart(22),
  ];
  return cols.join('  ');
}

async function scenarios(store: RedisSessionStore): Promise<Result[]> {
  const epochs = new Array<number>(SESSIONS);
  const id = (i: number): string => `bench-device-${i}`;
  const now = Date.now();
  // warm-up: scripts loaded, code paths compiled
  await measure('warm-up', 2_000, async (i) => {
    const opened = await store.open(`warm-${i}`, openOptions({ nowMs: now, proxyId: PROXY }));
    await store.save(sampleRecord(`warm-${i}`), opened.epoch, now);
  });
  const created = await measure('new', SESSIONS, async (i) => {
    const opened = await store.open(id(i), openOptions({ nowMs: Date.now(), proxyId: PROXY }));
    epochs[i] = opened.epoch;
    await store.save(sampleRecord(id(i)), opened.epoch, Date.now());
  });
  const resumed = await measure('resume', SESSIONS, async (i) => {
    const opened = await store.open(id(i), openOptions({ nowMs: Date.now(), proxyId: PROXY }));
    if (opened.record === undefined || opened.epoch <= (epochs[i] ?? 0)) throw new Error(`session ${id(i)} not resumed`);
  });
  return [created, resumed];
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-sessions-'));
  let server: RunningRedisServer | undefined;
  let store: RedisSessionStore | undefined;
  const stop = async (): Promise<void> => {
    await store?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const interrupted = (): void => void stop().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    server = await startRedisServer({ dir });
    store = new RedisSessionStore({ url: server.url, commandTimeoutMs: 10_000 });
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(`session store: ${SESSIONS.toLocaleString('en-US')} sessions, concurrency ${CONCURRENCY}, redis-server on ${server.url}`);
    console.log(`machine: ${cpus().length} × ${cpu}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    for (const result of await scenarios(store)) console.log(report(result));
  } finally {
    await stop();
  }
}

await main();

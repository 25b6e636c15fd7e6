// The results of the throughput benchmark: their shape, the markdown table, the notes a reader needs, and the
// JSON file under bench/results/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_NATS_SERVER_BINARY } from '../../e2e/src/processes/nats-server.js';
import type { CpuReport } from './proc-stats.js';
import type { HistogramSummary } from './prom-text.js';
import type { LoadQoS } from './raw-mqtt.js';
import { round, sum, type Percentiles } from './samples.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ShardCounters {
  shard: string;
  inMsgs: number;
  outMsgs: number;
  /** Counted until the end of the drain. */
  slowConsumers: number;
  rssMiB: number;
}

export interface ScenarioResult {
  scenario: string;
  qos: LoadQoS;
  pairs: number;
  payloadBytes: number;
  window: number | undefined;
  targetRate: number | undefined;
  intervalSeconds: number;
  sentInInterval: number;
  /** Full speed at QoS 1: PUBACKed per second; QoS 0: written per second. */
  publishedPerSecond: number;
  deliveredPerSecond: number;
  /** Of the messages sent in the interval, the share that reached the subscriber by the end of the drain. */
  deliveryRatio: number;
  receivedOfSent: number;
  drain: { seconds: number; endedBy: string };
  settledBeforeSeconds: number;
  outOfOrder: number;
  publishFailures: number;
  latencyMs: Percentiles | undefined;
  pubackLatencyMs: Percentiles | undefined;
  cpuSeconds: Record<string, number | undefined>;
  proxyCpuSecondsPer100kDelivered: number | undefined;
  machine: CpuReport['machine'];
  rssMiBAtEnd: Record<string, number | undefined>;
  jetstreamPublish: HistogramSummary | undefined;
  /** Per proxy: published, delivered, dropped and failure counters over the interval. */
  proxyCounters: Record<string, number>[];
  /** Per proxy: drop and failure counters from the start of the interval to the end of the drain. */
  proxyDropsIncludingDrain: Record<string, number>[];
  shards: ShardCounters[];
  metricsScrapeMs: number[][];
  clientErrors: string[];
}

export function markdown(results: readonly ScenarioResult[]): string {
  const header = [
    'scenario', 'published msg/s', 'delivered msg/s', 'delivery ratio', 'e2e p50 / p90 / p99 / max (ms)', 'PUBACK p50 / p99 (ms)',
    'JS publish p50 / p99 (ms)', 'CPU s: loadgen / proxy-0 / proxy-1 / shard-0+1+2 / other', 'proxy CPU s per 100k delivered',
  ];
  const rows = results.map((r) => {
    const l = r.latencyMs;
    const cpu = r.cpuSeconds;
    const shards = ['shard-0', 'shard-1', 'shard-2'].map((s) => String(cpu[s] ?? '–')).join('+');
    return [
      r.scenario,
      String(r.publishedPerSecond),
      String(r.deliveredPerSecond),
      String(r.deliveryRatio),
      l === undefined ? '–' : `${l.p50} / ${l.p90} / ${l.p99} / ${l.max}`,
      r.pubackLatencyMs === undefined ? '–' : `${r.pubackLatencyMs.p50} / ${r.pubackLatencyMs.p99}`,
      r.jetstreamPublish === undefined ? '–' : `${r.jetstreamPublish.p50Ms} / ${r.jetstreamPublish.p99Ms}`,
      `${String(cpu['loadGenerator'])} / ${String(cpu['proxy-0'])} / ${String(cpu['proxy-1'])} / ${shards} / ${r.machine.otherProcessesCpuSeconds}`,
      r.proxyCpuSecondsPer100kDelivered === undefined ? '–' : String(r.proxyCpuSecondsPer100kDelivered),
    ];
  });
  return [header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

/** One line per thing a reader should know: other load, drops, slow consumers, client errors. */
export function notes(results: readonly ScenarioResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const others = r.machine.busiestOthers.map((o) => `${o.comm} ${o.cpuSeconds}s`).join(', ');
    if (others !== '') lines.push(`${r.scenario}: busiest other processes: ${others}`);
    const drops = r.proxyDropsIncludingDrain.flatMap((d) => Object.entries(d)).map(([k, v]) => `${k}=${v}`);
    if (drops.length > 0) lines.push(`${r.scenario}: proxy drops/failures: ${drops.join(' ')}`);
    const slow = sum(r.shards.map((s) => s.slowConsumers));
    if (slow > 0) lines.push(`${r.scenario}: nats-server slow consumers: ${slow} (${r.shards.filter((s) => s.slowConsumers > 0).map((s) => s.shard).join(', ')})`);
    if (r.drain.endedBy !== 'complete') lines.push(`${r.scenario}: drain ended by ${r.drain.endedBy} after ${r.drain.seconds} s; ${r.receivedOfSent}/${r.sentInInterval} received`);
    const slowScrape = Math.max(...r.metricsScrapeMs.flat());
    if (slowScrape > 1_000) lines.push(`${r.scenario}: a proxy took ${slowScrape} ms to answer /metrics`);
    if (r.clientErrors.length > 0) lines.push(`${r.scenario}: client errors: ${r.clientErrors.slice(0, 5).join('; ')}`);
  }
  return lines;
}

export function machineInfo(): Record<string, unknown> {
  const run = (command: string, args: string[]): string => {
    try {
      return execFileSync(command, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    natsServer: run(DEFAULT_NATS_SERVER_BINARY, ['--version']),
    loadavgBefore: loadavg().map((x) => round(x)),
    topBefore: run('top', ['-bn1', '-w', '200']).split('\n').slice(0, 15).join('\n'),
  };
}

export function writeResults(options: unknown, machine: Record<string, unknown>, results: readonly ScenarioResult[]): string {
  const outDir = join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `${new Date().toISOString().slice(0, 10)}-fleet-throughput.json`);
  const document = {
    date: new Date().toISOString(),
    command: `npx tsx bench/fleet-throughput.ts ${process.argv.slice(2).join(' ')}`.trim(),
    options,
    machine,
    fleet: { proxies: 2, shards: 3, sessions: 'redis', storage: 'JetStream file store, R1', proxyLogLevel: 'warn' },
    scenarios: results,
  };
  writeFileSync(outFile, `${JSON.stringify(document, null, 2)}\n`);
  return outFile;
}

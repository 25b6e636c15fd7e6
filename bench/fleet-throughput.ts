// Throughput and latency of 1:1 publisher→subscriber pairs through a local fleet (issue 2, "first
// throughput figures"): subscriber i on proxy 0 subscribes to `bench/<i>`, publisher i on proxy 1
// publishes to it. A benchmark that prints, not a test:
//
//   npx tsx bench/fleet-throughput.ts [--qos 0|1] [--pairs N] [--seconds S] [--payload BYTES] [--window W]
//                                     [--batch B] [--warmup S] [--drain S] [--mqtt 3.1.1|5] [--cpu-prof]
//
// Defaults: 20 pairs, 10 s measured after a 2 s warm-up, 128-byte payloads, QoS 1 window 64 per publisher,
// 16 PUBLISHes per write() at full speed, MQTT 3.1.1. Without --qos it runs QoS 0 and QoS 1, each at full
// speed and then paced at half the rate just measured ("half rate"). It starts its own fleet (2 proxies ×
// 3 shards, free ports, temporary state directory) and stops it at the end, on an error, on SIGINT/SIGTERM
// and after a watchdog bound; the state directory (logs) is kept when something looked wrong.
// Results: a markdown table on stdout and bench/results/<YYYY-MM-DD>-fleet-throughput.json.
//
// Per scenario, over the measured interval: messages published (QoS 1: PUBACKed) and delivered per second;
// delivery ratio (of the messages sent in the interval, those that reached their subscriber after a drain);
// end-to-end latency from the send time in the payload; CPU seconds of the load generator
// (process.cpuUsage), of each proxy, shard and Redis (/proc/<pid>/stat), of the machine and of the busiest
// other processes (/proc); the proxies' JetStream publish histogram and counters (/metrics, and how long the
// scrape took); the shards' /varz counters (slow consumers). --cpu-prof writes a V8 profile per proxy.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { FleetConfig } from '../e2e/src/fleet/fleet-config.js';
import { startFleet } from '../e2e/src/fleet/fleet.js';
import { freeFleetPorts } from '../e2e/src/fleet/free-ports.js';
import type { Fleet } from '../e2e/src/fleet/fleet.js';
import { httpGet } from '../e2e/src/processes/child-process.js';
import { DEFAULT_NATS_SERVER_BINARY } from '../e2e/src/processes/nats-server.js';
import { Publisher, RawMqttClient } from './lib/raw-mqtt.js';
import type { Delivery, LoadQoS, ProtocolVersion } from './lib/raw-mqtt.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLK_TCK = 100; // Linux USER_HZ: the unit of the times in /proc/<pid>/stat
const STALL_MS = 3_000; // the drain ends when nothing arrived for this long
const SCRAPE_TIMEOUT_MS = 20_000; // a saturated proxy answers /metrics late
const SETTLE_MS = 30_000; // longest wait for the previous scenario's backlog

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------- options

interface Options {
  readonly qos: LoadQoS | undefined;
  readonly pairs: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly drainSeconds: number;
  readonly payload: number;
  readonly window: number;
  readonly batch: number;
  readonly protocolVersion: ProtocolVersion;
  readonly cpuProf: boolean;
}

function argumentMap(argv: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--cpu-prof') values.set('cpu-prof', 'true');
    else if (arg.startsWith('--') && i + 1 < argv.length) values.set(arg.slice(2), argv[++i] ?? '');
    else throw new Error(`unexpected argument ${arg}; usage: see the header of bench/fleet-throughput.ts`);
  }
  return values;
}

function parseOptions(argv: readonly string[]): Options {
  const values = argumentMap(argv);
  const take = (key: string): string | undefined => {
    const value = values.get(key);
    values.delete(key);
    return value;
  };
  const num = (key: string, fallback: number, min: number, max: number): number => {
    const raw = take(key);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${key} must be a number in ${min}..${max}`);
    return n;
  };
  const choice = <T>(key: string, fallback: T, allowed: Record<string, T>): T => {
    const raw = take(key);
    if (raw === undefined) return fallback;
    const value = allowed[raw];
    if (value === undefined) throw new Error(`--${key} must be one of ${Object.keys(allowed).join(', ')}`);
    return value;
  };
  const options: Options = {
    qos: choice<LoadQoS | undefined>('qos', undefined, { '0': 0, '1': 1 }),
    pairs: num('pairs', 20, 1, 5_000),
    seconds: num('seconds', 10, 1, 600),
    warmupSeconds: num('warmup', 2, 0, 60),
    drainSeconds: num('drain', 30, 1, 120),
    payload: num('payload', 128, 12, 1_000_000),
    window: num('window', 64, 1, 65_535),
    batch: num('batch', 16, 1, 4_096),
    protocolVersion: choice<ProtocolVersion>('mqtt', 4, { '3.1.1': 4, '5': 5 }),
    cpuProf: take('cpu-prof') !== undefined,
  };
  if (values.size > 0) throw new Error(`unknown option(s): ${[...values.keys()].map((k) => `--${k}`).join(' ')}`);
  return options;
}

// -------------------------------------------------------------------------- measurements: latency samples

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  samples: number;
}

/** Latencies in ms, kept whole (10 s at 200k msg/s is 16 MB) and sorted once for the percentiles. */
class Samples {
  private data = new Float64Array(1 << 16);
  private count = 0;

  add(value: number): void {
    if (this.count === this.data.length) {
      if (this.count >= 1 << 26) return; // 64M samples are plenty for the percentiles printed here
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.count++] = value;
  }

  percentiles(): Percentiles | undefined {
    const n = this.count;
    if (n === 0) return undefined;
    const sorted = this.data.subarray(0, n).sort();
    const at = (q: number): number => round(sorted[Math.min(n - 1, Math.floor(q * n))] ?? Number.NaN, 3);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted[n - 1] ?? Number.NaN, 3), samples: n };
  }
}

// ------------------------------------------------------------------------------- measurements: /proc

/** The fields after `(comm)` of /proc/<pid>/stat: index 0 is field 3 (state), 1 ppid, 11 utime, 12 stime. */
function statFields(pid: number | string): { comm: string; fields: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
  } catch {
    return undefined; // exited
  }
}

function procCpuSeconds(pid: number | string): number | undefined {
  const stat = statFields(pid);
  return stat === undefined ? undefined : (Number(stat.fields[11]) + Number(stat.fields[12])) / CLK_TCK;
}

function procRssMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : round(Number(kb) / 1024, 1);
  } catch {
    return undefined;
  }
}

/** This process and its ancestors (npx, npm exec, tsx): the load generator's own wrappers. */
function selfAndAncestors(): Set<number> {
  const result = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !result.has(pid)) {
    result.add(pid);
    pid = Number(statFields(pid)?.fields[1] ?? 0);
  }
  return result;
}

/** Name and CPU seconds of every process, to name the busiest other processes during a scenario. */
function allProcesses(): Map<number, { comm: string; cpu: number }> {
  const result = new Map<number, { comm: string; cpu: number }>();
  for (const entry of readdirSync('/proc')) {
    const stat = /^\d+$/.test(entry) ? statFields(entry) : undefined;
    if (stat !== undefined) result.set(Number(entry), { comm: stat.comm, cpu: (Number(stat.fields[11]) + Number(stat.fields[12])) / CLK_TCK });
  }
  return result;
}

/** Busy and total CPU seconds of the machine (all cores), from the first line of /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const total = sum(ticks);
  return { busy: (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / CLK_TCK, total: total / CLK_TCK };
}

// ---------------------------------------------------------------------- measurements: /metrics, /varz

type Series = Map<string, number>;

/** Prometheus text → `name{labels}` → value. */
function parseMetrics(text: string): Series {
  const series: Series = new Map();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) series.set(match[1], Number(match[2]));
  }
  return series;
}

function diffSeries(before: Series | undefined, after: Series, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (before === undefined || before.size === 0) return out; // a failed scrape: no delta rather than a wrong one
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (key.startsWith(prefix) && delta !== 0) out[key] = delta;
  }
  return out;
}

interface HistogramSummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** [upper bound in seconds, cumulative count], summed over shards and proxies; bounds without change omitted. */
  buckets: [string, number][];
}

/** The quantile of cumulative buckets by linear interpolation inside a bucket (like histogram_quantile). */
function bucketQuantile(buckets: Map<number, number>, count: number, q: number): number {
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const bound of [...buckets.keys()].sort((a, b) => a - b)) {
    const cumulative = buckets.get(bound) ?? 0;
    if (cumulative >= rank) {
      return Number.isFinite(bound) ? lower + ((bound - lower) * (rank - below)) / Math.max(1, cumulative - below) : lower;
    }
    lower = bound;
    below = cumulative;
  }
  return lower;
}

/** Sums the deltas of a histogram over its labels (shards) and proxies. */
function histogramDelta(deltas: readonly Record<string, number>[], name: string): HistogramSummary | undefined {
  const buckets = new Map<number, number>();
  let count = 0;
  let total = 0;
  for (const [key, value] of deltas.flatMap((d) => Object.entries(d))) {
    if (key.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(key)?.[1] ?? '+Inf';
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    } else if (key.startsWith(`${name}_count`)) count += value;
    else if (key.startsWith(`${name}_sum`)) total += value;
  }
  if (count === 0) return undefined;
  const ms = (q: number): number => round(bucketQuantile(buckets, count, q) * 1000, 3);
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  return {
    count,
    meanMs: round((total / count) * 1000, 3),
    p50Ms: ms(0.5),
    p90Ms: ms(0.9),
    p99Ms: ms(0.99),
    buckets: bounds.map((b) => [Number.isFinite(b) ? String(b) : '+Inf', buckets.get(b) ?? 0]),
  };
}

async function fetchJson(url: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse((await httpGet(url, SCRAPE_TIMEOUT_MS)).body) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** What the bench reads from the fleet's processes and endpoints. */
class FleetProbe {
  readonly pids = new Map<string, number>();
  /** Per proxy, how long each /metrics scrape took (ms): a busy event loop answers late. */
  readonly scrapeMs: number[][];

  constructor(private readonly fleet: Fleet) {
    for (let i = 0; i < fleet.config.proxies; i++) this.pids.set(`proxy-${i}`, fleet.proxy(i)?.pid ?? 0);
    for (let i = 0; i < fleet.config.shards; i++) this.pids.set(`shard-${i}`, fleet.shard(i)?.pid ?? 0);
    this.pids.set('redis', fleet.redis()?.pid ?? 0);
    this.scrapeMs = fleet.proxyEndpoints.map(() => []);
  }

  metrics(): Promise<Series[]> {
    return Promise.all(this.fleet.proxyEndpoints.map(async (p, i) => {
      const started = performance.now();
      try {
        return parseMetrics((await httpGet(`${p.httpUrl}/metrics`, SCRAPE_TIMEOUT_MS)).body);
      } catch {
        return new Map<string, number>();
      } finally {
        this.scrapeMs[i]?.push(round(performance.now() - started, 0));
      }
    }));
  }

  shardJson(path: string): Promise<Record<string, unknown>[]> {
    return Promise.all(Array.from({ length: this.fleet.config.shards }, (_, i) => fetchJson(`${this.fleet.shard(i)?.monitorUrl ?? ''}${path}`)));
  }

  cpuSnapshot(): CpuSnapshot {
    return {
      at: performance.now(),
      self: process.cpuUsage(),
      named: new Map([...this.pids].map(([name, pid]) => [name, procCpuSeconds(pid)])),
      machine: machineCpu(),
      processes: allProcesses(),
    };
  }

  rssMiB(): Record<string, number | undefined> {
    return { loadGenerator: round(process.memoryUsage.rss() / 2 ** 20, 1), ...Object.fromEntries([...this.pids].map(([name, pid]) => [name, procRssMiB(pid)])) };
  }

  /**
   * Waits (up to SETTLE_MS) until no shard holds bytes for a proxy connection and every proxy answers
   * /metrics quickly, so that one scenario's backlog does not load the next. Returns the seconds waited.
   */
  async settle(): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < SETTLE_MS) {
      const connz = await this.shardJson('/connz');
      const pending = sum(connz.flatMap((c) => ((c['connections'] ?? []) as { pending_bytes?: number }[]).map((x) => x.pending_bytes ?? 0)));
      const slowest = Math.max(...(await Promise.all(this.fleet.proxyEndpoints.map(async (p) => {
        const t = performance.now();
        await httpGet(`${p.httpUrl}/metrics`, SCRAPE_TIMEOUT_MS).catch(() => undefined);
        return performance.now() - t;
      }))));
      if (pending === 0 && slowest < 200) break;
      await sleep(500);
    }
    return round((performance.now() - started) / 1000);
  }
}

interface CpuSnapshot {
  readonly at: number;
  readonly self: NodeJS.CpuUsage;
  readonly named: Map<string, number | undefined>;
  readonly machine: { busy: number; total: number };
  readonly processes: Map<number, { comm: string; cpu: number }>;
}

interface CpuReport {
  /** CPU seconds over the interval: the load generator, each proxy, shard and Redis. */
  seconds: Record<string, number | undefined>;
  machine: { busyCpuSeconds: number; capacityCpuSeconds: number; otherProcessesCpuSeconds: number; busiestOthers: { pid: number; comm: string; cpuSeconds: number }[] };
}

function cpuReport(before: CpuSnapshot, after: CpuSnapshot, ours: Set<number>): CpuReport {
  const seconds: Record<string, number | undefined> = {
    loadGenerator: round((after.self.user - before.self.user + after.self.system - before.self.system) / 1e6),
  };
  for (const [name, end] of after.named) {
    const start = before.named.get(name);
    seconds[name] = start === undefined || end === undefined ? undefined : round(end - start);
  }
  const busy = after.machine.busy - before.machine.busy;
  const busiestOthers = [...after.processes]
    .filter(([pid]) => !ours.has(pid))
    .map(([pid, p]) => ({ pid, comm: p.comm, cpuSeconds: round(p.cpu - (before.processes.get(pid)?.cpu ?? 0)) }))
    .filter((p) => p.cpuSeconds > 0.05)
    .sort((a, b) => b.cpuSeconds - a.cpuSeconds)
    .slice(0, 6);
  return {
    seconds,
    machine: {
      busyCpuSeconds: round(busy),
      capacityCpuSeconds: round(after.machine.total - before.machine.total),
      otherProcessesCpuSeconds: round(busy - sum(Object.values(seconds).map((s) => s ?? 0))),
      busiestOthers,
    },
  };
}

// ------------------------------------------------------------------------------------------ the fleet

/**
 * Node 20 refuses --cpu-prof in NODE_OPTIONS and the fleet fixes the proxy's command line, so --cpu-prof
 * starts each proxy through a wrapper (written into the temporary state directory) that runs the V8
 * profiler via node:inspector and writes `<proxy id>.cpuprofile` when the proxy exits after SIGTERM.
 */
function writeProfilingMain(stateDir: string, profDir: string): string {
  mkdirSync(profDir, { recursive: true });
  const file = join(stateDir, 'profiled-proxy-main.mjs');
  writeFileSync(file, [
    `import { Session } from 'node:inspector';`,
    `import { writeFileSync } from 'node:fs';`,
    `const session = new Session();`,
    `session.connect();`,
    `session.post('Profiler.enable');`,
    `session.post('Profiler.setSamplingInterval', { interval: 500 });`,
    `session.post('Profiler.start');`,
    `process.on('exit', () => session.post('Profiler.stop', (err, result) => {`,
    `  if (!err) writeFileSync(${JSON.stringify(profDir)} + '/' + (process.env.SHOAL_PROXY_ID ?? process.pid) + '.cpuprofile', JSON.stringify(result.profile));`,
    `}));`,
    `await import(${JSON.stringify(join(ROOT, 'proxy', 'dist', 'main.js'))});`,
    '',
  ].join('\n'));
  return file;
}

// ------------------------------------------------------------------------------------------- scenarios

interface Scenario {
  readonly name: string;
  readonly qos: LoadQoS;
  /** Messages per second per publisher; absent = as fast as possible. */
  readonly ratePerPair?: number;
}

/** Per pair: the sequence range sent in the interval and what the subscriber received of it. */
class PairTracker {
  readonly startSeq: number[];
  readonly endSeq: number[];
  private readonly inRange: number[];
  private readonly lastSeq: number[];
  outOfOrder = 0;
  deliveredInInterval = 0;
  measuring = false;
  readonly latency = new Samples();
  readonly pubackLatency = new Samples();

  constructor(pairs: number) {
    this.startSeq = new Array<number>(pairs).fill(Number.POSITIVE_INFINITY);
    this.endSeq = new Array<number>(pairs).fill(Number.POSITIVE_INFINITY);
    this.inRange = new Array<number>(pairs).fill(0);
    this.lastSeq = new Array<number>(pairs).fill(-1);
  }

  delivered(pair: number, d: Delivery): void {
    if (d.seq <= (this.lastSeq[pair] ?? -1)) this.outOfOrder++;
    this.lastSeq[pair] = d.seq;
    if (d.seq >= (this.startSeq[pair] ?? 0) && d.seq < (this.endSeq[pair] ?? 0)) this.inRange[pair] = (this.inRange[pair] ?? 0) + 1;
    if (this.measuring) {
      this.deliveredInInterval++;
      this.latency.add(performance.now() - d.sentAtMs);
    }
  }

  get expected(): number {
    return sum(this.endSeq.map((end, i) => end - (this.startSeq[i] ?? 0)));
  }

  get received(): number {
    return sum(this.inRange);
  }

  /** Waits until every message of the interval arrived, nothing arrived for STALL_MS, or `limitMs`. */
  async drain(limitMs: number): Promise<{ seconds: number; endedBy: 'complete' | 'stall' | 'timeout' }> {
    const started = performance.now();
    let seen = -1;
    let lastProgress = started;
    for (;;) {
      const now = performance.now();
      const got = this.received;
      if (got >= this.expected) return { seconds: round((now - started) / 1000), endedBy: 'complete' };
      if (got !== seen) [seen, lastProgress] = [got, now];
      if (now - started > limitMs) return { seconds: round((now - started) / 1000), endedBy: 'timeout' };
      if (now - lastProgress > STALL_MS) return { seconds: round((now - started) / 1000), endedBy: 'stall' };
      await sleep(50);
    }
  }
}

const live = new Set<RawMqttClient>();

async function connect(fleet: Fleet, proxy: number, clientId: string, options: Options): Promise<RawMqttClient> {
  const url = new URL(fleet.proxyEndpoints[proxy]?.mqttUrl ?? '');
  const client = await RawMqttClient.connect({ host: url.hostname, port: Number(url.port), clientId, protocolVersion: options.protocolVersion });
  live.add(client);
  return client;
}

async function closeAll(timeoutMs = 2_000): Promise<void> {
  await Promise.all([...live].map(async (c) => {
    await c.close(timeoutMs);
    live.delete(c);
  }));
}

/** Subscriber i on proxy 0 (`bench/<i>` at the scenario's QoS), then publisher i on proxy 1. */
async function connectPairs(fleet: Fleet, scenario: Scenario, options: Options, tag: string, tracker: PairTracker): Promise<{ subscribers: RawMqttClient[]; publishers: Publisher[] }> {
  const subscribers: RawMqttClient[] = [];
  for (let i = 0; i < options.pairs; i++) {
    const client = await connect(fleet, 0, `${tag}-sub-${i}`, options);
    client.onDelivery = (d) => tracker.delivered(i, d);
    const granted = await client.subscribe([{ topic: `bench/${i}`, qos: scenario.qos }]);
    if (granted[0] !== scenario.qos) throw new Error(`subscriber ${i}: SUBACK granted ${granted.join(',')}`);
    subscribers.push(client);
  }
  const publishers: Publisher[] = [];
  for (let i = 0; i < options.pairs; i++) {
    const client = await connect(fleet, 1, `${tag}-pub-${i}`, options);
    const publisher = new Publisher(client, {
      topic: `bench/${i}`,
      qos: scenario.qos,
      payloadBytes: options.payload,
      window: options.window,
      batch: options.batch,
      ...(scenario.ratePerPair === undefined ? {} : { ratePerSecond: scenario.ratePerPair }),
    });
    publisher.onAcked = (ms) => {
      if (tracker.measuring) tracker.pubackLatency.add(ms);
    };
    publishers.push(publisher);
  }
  return { subscribers, publishers };
}

interface ShardCounters {
  shard: string;
  inMsgs: number;
  outMsgs: number;
  /** Counted until the end of the drain. */
  slowConsumers: number;
  rssMiB: number;
}

interface ScenarioResult {
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

function shardCounters(before: Record<string, unknown>[], after: Record<string, unknown>[], drained: Record<string, unknown>[]): ShardCounters[] {
  return after.map((v, i) => {
    const b = before[i] ?? {};
    const delta = (doc: Record<string, unknown> | undefined, key: string): number => Number(doc?.[key] ?? 0) - Number(b[key] ?? 0);
    return {
      shard: `shard-${i}`,
      inMsgs: delta(v, 'in_msgs'),
      outMsgs: delta(v, 'out_msgs'),
      slowConsumers: delta(drained[i], 'slow_consumers'),
      rssMiB: round(Number(v['mem'] ?? 0) / 2 ** 20, 1),
    };
  });
}

const pick = (deltas: Record<string, number>[], pattern: RegExp): Record<string, number>[] =>
  deltas.map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => pattern.test(k))));

async function runScenario(fleet: Fleet, scenario: Scenario, options: Options, runId: string): Promise<ScenarioResult> {
  const probe = new FleetProbe(fleet);
  const settledBeforeSeconds = await probe.settle();
  const pace = scenario.ratePerPair === undefined ? 'full speed' : `paced at ${round(scenario.ratePerPair * options.pairs, 0)} msg/s`;
  console.log(`\n── ${scenario.name}: ${options.pairs} pairs, QoS ${scenario.qos}, ${options.payload} B, ${pace}`);
  const tracker = new PairTracker(options.pairs);
  const { subscribers, publishers } = await connectPairs(fleet, scenario, options, `${runId}-${scenario.name}`, tracker);

  for (const p of publishers) p.start();
  await sleep(options.warmupSeconds * 1000);

  const [metricsBefore, varzBefore] = await Promise.all([probe.metrics(), probe.shardJson('/varz')]);
  const ackedBefore = publishers.map((p) => p.acked);
  publishers.forEach((p, i) => (tracker.startSeq[i] = p.sent));
  const before = probe.cpuSnapshot();
  tracker.measuring = true;

  await sleep(options.seconds * 1000);

  tracker.measuring = false;
  publishers.forEach((p, i) => (tracker.endSeq[i] = p.sent));
  const after = probe.cpuSnapshot();
  const rssMiBAtEnd = probe.rssMiB();
  const acked = sum(publishers.map((p, i) => p.acked - (ackedBefore[i] ?? 0)));
  const stopping = Promise.all(publishers.map((p) => p.stop()));
  const [metricsAfter, varzAfter] = await Promise.all([probe.metrics(), probe.shardJson('/varz')]);
  await stopping;
  const drain = await tracker.drain(options.drainSeconds * 1000);
  const [metricsDrained, varzDrained] = await Promise.all([probe.metrics(), probe.shardJson('/varz')]);
  const clientErrors = [...subscribers, ...publishers.map((p) => p.client)].flatMap((c) => (c.error === undefined ? [] : [c.error.message]));
  await closeAll();

  const seconds = (after.at - before.at) / 1000;
  const sent = tracker.expected;
  const proxyDeltas = metricsAfter.map((m, i) => diffSeries(metricsBefore[i], m, 'shoal_proxy_'));
  const cpu = cpuReport(before, after, new Set([...selfAndAncestors(), ...probe.pids.values()]));
  const proxyCpu = (cpu.seconds['proxy-0'] ?? 0) + (cpu.seconds['proxy-1'] ?? 0);
  const result: ScenarioResult = {
    scenario: scenario.name,
    qos: scenario.qos,
    pairs: options.pairs,
    payloadBytes: options.payload,
    window: scenario.qos === 1 ? options.window : undefined,
    targetRate: scenario.ratePerPair === undefined ? undefined : round(scenario.ratePerPair * options.pairs, 0),
    intervalSeconds: round(seconds, 3),
    sentInInterval: sent,
    publishedPerSecond: round((scenario.qos === 1 ? acked : sent) / seconds, 0),
    deliveredPerSecond: round(tracker.deliveredInInterval / seconds, 0),
    deliveryRatio: sent === 0 ? 0 : round(tracker.received / sent, 6),
    receivedOfSent: tracker.received,
    drain,
    settledBeforeSeconds,
    outOfOrder: tracker.outOfOrder,
    publishFailures: sum(publishers.map((p) => p.failed)),
    latencyMs: tracker.latency.percentiles(),
    pubackLatencyMs: tracker.pubackLatency.percentiles(),
    cpuSeconds: cpu.seconds,
    proxyCpuSecondsPer100kDelivered: tracker.deliveredInInterval === 0 ? undefined : round((proxyCpu * 1e5) / tracker.deliveredInInterval, 3),
    machine: cpu.machine,
    rssMiBAtEnd,
    jetstreamPublish: histogramDelta(proxyDeltas, 'shoal_proxy_jetstream_publish_seconds'),
    proxyCounters: pick(proxyDeltas, /_(messages_\w+|publish_failures|shard_published)_total/),
    proxyDropsIncludingDrain: pick(metricsDrained.map((m, i) => diffSeries(metricsBefore[i], m, 'shoal_proxy_')), /dropped|failures/),
    shards: shardCounters(varzBefore, varzAfter, varzDrained),
    metricsScrapeMs: probe.scrapeMs,
    clientErrors,
  };
  console.log(JSON.stringify({ published: result.publishedPerSecond, delivered: result.deliveredPerSecond, ratio: result.deliveryRatio, latencyMs: result.latencyMs }));
  return result;
}

// ------------------------------------------------------------------------------------------- reporting

function markdown(results: readonly ScenarioResult[]): string {
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
function notes(results: readonly ScenarioResult[]): string[] {
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

function machineInfo(): Record<string, unknown> {
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

function writeResults(options: Options, machine: Record<string, unknown>, results: readonly ScenarioResult[]): string {
  const outDir = join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `${new Date().toISOString().slice(0, 10)}-fleet-throughput.json`);
  const document = {
    date: new Date().toISOString(),
    command: `npx tsx bench/fleet-throughput.ts ${process.argv.slice(2).join(' ')}`.trim(),
    options,
    machine,
    fleet: { proxies: 2, shards: 3, sessions: 'memory', storage: 'JetStream file store, R1', proxyLogLevel: 'warn' },
    scenarios: results,
  };
  writeFileSync(outFile, `${JSON.stringify(document, null, 2)}\n`);
  return outFile;
}

// ------------------------------------------------------------------------------------------------- main

async function runAll(fleet: Fleet, options: Options): Promise<ScenarioResult[]> {
  const scenarios: Scenario[] = options.qos === undefined ? [{ name: 'qos0', qos: 0 }, { name: 'qos1', qos: 1 }] : [{ name: `qos${options.qos}`, qos: options.qos }];
  const runId = `b${Date.now().toString(36)}`;
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const full = await runScenario(fleet, scenario, options, runId);
    results.push(full);
    // Latency below saturation, paced at half the rate just measured: QoS 1 PUBACKed, QoS 0 delivered (a QoS
    // 0 publisher can write faster than the fleet delivers).
    const half = (scenario.qos === 1 ? full.publishedPerSecond : full.deliveredPerSecond) / 2;
    results.push(await runScenario(fleet, { name: `${scenario.name}-half-rate`, qos: scenario.qos, ratePerPair: half / options.pairs }, options, runId));
  }
  return results;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const machine = machineInfo();
  console.log(`machine: ${String(machine['nproc'])} CPUs, Node ${process.version}, ${String(machine['natsServer'])}, load average ${(machine['loadavgBefore'] as number[]).join(' ')}`);

  const scenarioCount = options.qos === undefined ? 4 : 2;
  const watchdogMs = (60 + scenarioCount * (options.warmupSeconds + options.seconds + options.drainSeconds + SETTLE_MS / 1000 + 30)) * 1000;
  const stateDir = mkdtempSync(join(tmpdir(), 'shoal-bench-'));
  const profDir = join(stateDir, 'cpu-prof');
  const config: FleetConfig = { proxies: 2, shards: 3, ...(await freeFleetPorts(3)), stateDir };
  let fleet: Fleet | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (keepState: boolean): Promise<void> => {
    cleaning ??= (async () => {
      await closeAll(500);
      await fleet?.stop();
      if (keepState) console.log(`state, logs${options.cpuProf ? ' and CPU profiles' : ''} kept in ${stateDir}`);
      else rmSync(stateDir, { recursive: true, force: true });
    })();
    return cleaning;
  };
  let aborting = false;
  const abort = (why: string): void => {
    if (aborting) return;
    aborting = true;
    console.error(`\n${why}: stopping the fleet`);
    void cleanup(true).finally(() => process.exit(130));
  };
  // `on`, not `once`: the fleet's own handler SIGKILLs the children and re-raises the signal only when no
  // other listener is left, which would end this process before the cleanup.
  process.on('SIGINT', () => abort('SIGINT'));
  process.on('SIGTERM', () => abort('SIGTERM'));
  const watchdog = setTimeout(() => abort(`watchdog: the run exceeded ${watchdogMs / 1000} s`), watchdogMs);

  try {
    console.log(`starting the fleet (2 proxies, 3 shards) in ${stateDir}`);
    fleet = await startFleet(config, {
      proxyEnv: { SHOAL_LOG_LEVEL: 'warn' },
      ...(options.cpuProf ? { proxyMain: writeProfilingMain(stateDir, profDir) } : {}),
    });
    const results = await runAll(fleet, options);
    const outFile = writeResults(options, machine, results);
    console.log(`\n${markdown(results)}\n`);
    console.log(`CPU seconds are over the ${options.seconds} s interval on ${String(machine['nproc'])} cores; "other" = busy CPU of every process outside the fleet and the load generator.`);
    for (const line of notes(results)) console.log(line);
    console.log(`\nwritten ${outFile}`);
    const suspicious = results.some((r) => r.deliveryRatio < 1 || r.clientErrors.length > 0);
    await cleanup(options.cpuProf || suspicious);
  } catch (err: unknown) {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    await cleanup(true);
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
  }
}

await main();

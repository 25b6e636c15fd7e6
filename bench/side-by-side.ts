// `make bench`: Shoal side by side with Mosquitto and nats-server's built-in MQTT, on this machine, in the same
// run, driven by the same load generator (bench/lib: raw sockets and mqtt-packet, whose own CPU is reported).
// It starts the local fleet (2 proxies × 3 shards, Redis), a Mosquitto and a nats-server with JetStream and an
// `mqtt` block, all on free ports of 127.0.0.1, runs every scenario against each system in turn (scenario by
// scenario, so the three see the same machine conditions), and stops them all at the end, on an error, on
// SIGINT/SIGTERM and after a watchdog bound.
//
//   npx tsx bench/side-by-side.ts [--quick] [--only a,b] [--systems shoal,mosquitto,nats-mqtt] [--seconds S]
//   npx tsx bench/side-by-side.ts --from-results <YYYY-MM-DD>   (rewrite the summary and chart from the JSON files)
//   --cpu-prof: a V8 CPU profile per Shoal proxy, kept with the logs in the state directory it prints
//   --half-rate R: pace the half-rate scenario at R msg/s instead of half of this run's QoS 1 rate (to profile it alone)
//
// Before each scenario and system: the system's own backlog drained, then the whole machine quiet (≤ 0.2 cores busy
// over 1 s, at most 10 s: bench/lib/quiet-machine.ts; `quietBefore` in the JSON), so none pays for another's leftovers.
//
// Writes bench/results/<date>-<scenario>.json, <date>-summary.md and <date>-summary.svg (scenarios:
// bench/lib/side-by-side-scenarios.ts). --quick (BENCH_QUICK=1 in make) runs about a minute; the default run
// stays under ten.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './lib/samples.js';
import { SCENARIOS, type BenchSettings, type IdleResult, type SystemResult } from './lib/side-by-side-scenarios.js';
import { goals, summaryMarkdown, writeScenarioJson } from './lib/side-by-side-report.js';
import { summaryChart } from './lib/summary-chart.js';
import { startMosquittoTarget, startNatsMqttTarget, startShoal, stopTargets, type Target, type TargetName } from './lib/targets.js';
import { writeProfilingMain } from './lib/profiling-main.js';
import { machineInfo } from './lib/throughput-report.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SYSTEMS: readonly TargetName[] = ['shoal', 'mosquitto', 'nats-mqtt'];

interface Options {
  readonly quick: boolean;
  readonly only: readonly string[] | undefined;
  readonly systems: readonly TargetName[];
  readonly seconds: number | undefined;
  readonly fromResults: string | undefined;
  readonly cpuProf: boolean;
  readonly halfRate: number | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  let quick = false;
  let only: string[] | undefined;
  let systems: TargetName[] = [...SYSTEMS];
  let seconds: number | undefined;
  let fromResults: string | undefined;
  let cpuProf = false;
  let halfRate: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => argv[++i] ?? '';
    if (arg === '--quick') quick = true;
    else if (arg === '--only') only = value().split(',');
    else if (arg === '--systems') systems = value().split(',').filter((s): s is TargetName => (SYSTEMS as readonly string[]).includes(s));
    else if (arg === '--seconds') seconds = Number(value());
    else if (arg === '--from-results') fromResults = value();
    else if (arg === '--cpu-prof') cpuProf = true;
    else if (arg === '--half-rate') halfRate = Number(value());
    else throw new Error(`unexpected argument ${String(arg)}; usage: see the header of bench/side-by-side.ts`);
  }
  return checked({ quick, only, systems, seconds, fromResults, cpuProf, halfRate });
}

function checked(options: Options): Options {
  const unknown = options.only?.filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  if (options.seconds !== undefined && !(options.seconds >= 1 && options.seconds <= 600)) throw new Error('--seconds must be in 1..600');
  if (options.halfRate !== undefined && !(options.halfRate > 0)) throw new Error('--half-rate must be a positive rate in msg/s');
  if (options.only?.includes('pairs-qos1-slo') === true && !options.only.includes('pairs-qos1')) throw new Error('--only pairs-qos1-slo needs pairs-qos1 as well: it searches below the rate that one measures');
  return options;
}

function settingsFor(options: Options): BenchSettings {
  const q = options.quick;
  return {
    quick: q,
    seconds: options.seconds ?? (q ? 2 : 10),
    warmupSeconds: q ? 1 : 2,
    drainSeconds: q ? 10 : 20,
    pairs: 20,
    fanInPublishers: 100,
    fanOutSubscribers: 1_000,
    payloadBytes: 128,
    window: 64,
    e2eWindow: 256,
    idleConnections: q ? 2_000 : 10_000,
    connectSeconds: q ? 2 : 10,
    connectConcurrency: 200,
    replayMessages: q ? 1_000 : 10_000,
    replayStallMs: q ? 3_000 : 10_000,
    idleSettleMs: q ? 1_000 : 3_000,
    sloBoundMs: 10,
    sloProbes: q ? 3 : 5,
    sloSeconds: q ? 2 : 5,
    runId: `r${Date.now().toString(36)}`,
    ...(options.halfRate === undefined ? {} : { halfRatePerSecond: options.halfRate }),
  };
}

async function startSystems(names: readonly TargetName[], stateDir: string, proxyMain: string | undefined): Promise<Target[]> {
  const started: Target[] = [];
  try {
    for (const name of names) {
      console.log(`starting ${name}`);
      if (name === 'shoal') started.push(await startShoal(stateDir, proxyMain));
      else if (name === 'mosquitto') started.push(await startMosquittoTarget(stateDir));
      else started.push(await startNatsMqttTarget(stateDir));
    }
    return started;
  } catch (err: unknown) {
    await stopTargets(started);
    throw err;
  }
}

function idleLine(idle: IdleResult): string {
  const settled = idle.settled === undefined ? '' : `; lowest ${idle.settled.kibPerConnection} KiB, ${idle.settled.seconds} s later`;
  return `${idle.connections} connections, ${idle.kibPerConnection} KiB each (system ${idle.systemKibPerConnection})${settled}`;
}

function oneLine(r: SystemResult): string {
  if (r.flow !== undefined) return `published ${r.flow.publishedPerSecond}/s, delivered ${r.flow.deliveredPerSecond}/s, ratio ${r.flow.deliveryRatio}, e2e p50/p99 ${r.flow.latencyMs?.p50 ?? '–'}/${r.flow.latencyMs?.p99 ?? '–'} ms, CPU s/100k ${r.cpuSecondsPer100k ?? '–'}`;
  if (r.idle !== undefined) return idleLine(r.idle);
  if (r.connect !== undefined) return `${r.connect.connacksPerSecond} CONNACK/s, ${r.connect.failed} failed, p99 ${r.connect.latencyMs?.p99 ?? '–'} ms`;
  if (r.replay !== undefined) return `received ${r.replay.received}/${r.replay.acked} in ${r.replay.seconds} s (${r.replay.endedBy})${r.replay.error === undefined ? '' : `, ${r.replay.error}`}`;
  return r.skipped ?? '';
}

/** Writes the chart as SVG, and as PNG too when `rsvg-convert` (Debian librsvg2-bin) is installed. */
function writeChart(outDir: string, date: string, svg: string): void {
  const file = join(outDir, `${date}-summary.svg`);
  writeFileSync(file, svg);
  try {
    execFileSync('rsvg-convert', ['-o', file.replace(/\.svg$/, '.png'), file], { stdio: 'ignore' });
  } catch {
    console.log('no rsvg-convert (Debian librsvg2-bin): the chart is written as SVG only');
  }
}

/** Rebuilds the summary and the chart of a run from its JSON files. */
function rewriteSummary(outDir: string, date: string): void {
  const results = new Map<string, Map<string, SystemResult>>();
  let header = { date, command: '', machine: '', quick: false };
  const runs: string[] = [];
  for (const scenario of SCENARIOS) {
    const file = join(outDir, `${date}-${scenario.name}.json`);
    if (!existsSync(file)) continue;
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { date: string; command: string; settings: BenchSettings; machine: Record<string, unknown>; systems: Record<string, SystemResult> };
    results.set(scenario.name, new Map(Object.entries(doc.systems)));
    if (!runs.includes(`${doc.command} (${doc.date})`)) runs.push(`${doc.command} (${doc.date})`);
    header = { date: runs.length === 1 ? doc.date : header.date, command: runs.join('`, then `'), machine: `${String(doc.machine['nproc'])} × ${String(doc.machine['cpuModel'])}, Node ${String(doc.machine['node'])}, ${String(doc.machine['natsServer'])}`, quick: doc.settings.quick };
  }
  const systems = [...new Set([...results.values()].flatMap((m) => [...m.keys()]))];
  writeFileSync(join(outDir, `${date}-summary.md`), summaryMarkdown(SCENARIOS.filter((s) => results.has(s.name)), results, header));
  writeChart(outDir, date, summaryChart(results, systems, date));
  console.log(`rewritten ${outDir}/${date}-summary.{md,svg} from ${results.size} scenario files`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.fromResults !== undefined) {
    rewriteSummary(join(ROOT, 'bench', 'results'), options.fromResults);
    return;
  }
  const settings = settingsFor(options);
  const scenarios = SCENARIOS.filter((s) => options.only === undefined || options.only.includes(s.name));
  const machine = machineInfo();
  const date = new Date().toISOString().slice(0, 10);
  const outDir = join(ROOT, 'bench', 'results');
  console.log(`machine: ${cpus().length} CPUs, Node ${process.version}, ${String(machine['natsServer'])}, load average ${loadavg().map((x) => round(x)).join(' ')}`);
  const stateDir = mkdtempSync(join(tmpdir(), 'shoal-side-by-side-'));
  const targets: Target[] = [];
  const watchdogMs = (options.quick ? 5 : 20) * 60_000;
  let aborting = false;
  const abort = (why: string): void => {
    if (aborting) return;
    aborting = true;
    console.error(`\n${why}: stopping every system (state kept in ${stateDir})`);
    void stopTargets(targets).finally(() => process.exit(130));
  };
  process.on('SIGINT', () => abort('SIGINT'));
  process.on('SIGTERM', () => abort('SIGTERM'));
  const watchdog = setTimeout(() => abort(`watchdog: the run exceeded ${watchdogMs / 1000} s`), watchdogMs);
  const results = new Map<string, Map<string, SystemResult>>();
  try {
    const proxyMain = options.cpuProf ? writeProfilingMain(stateDir, join(stateDir, 'cpu-prof')) : undefined;
    targets.push(...(await startSystems(options.systems, stateDir, proxyMain)));
    const common = { date: new Date().toISOString(), command: `npx tsx bench/side-by-side.ts ${process.argv.slice(2).join(' ')}`.trim(), settings, machine, systems: targets.map((t) => ({ name: t.name, description: t.description, processes: Object.fromEntries(t.pids) })) };
    for (const scenario of scenarios) {
      console.log(`\n── ${scenario.name}: ${scenario.title}`);
      const byTarget = new Map<string, SystemResult>();
      results.set(scenario.name, byTarget);
      for (const target of targets) {
        const result = await scenario.run(target, settings, results);
        byTarget.set(target.name, result);
        console.log(`   ${target.name.padEnd(10)} ${oneLine(result)}`);
      }
      writeScenarioJson(outDir, date, scenario, common, byTarget);
    }
    const markdown = summaryMarkdown(scenarios, results, { date: common.date, command: common.command, machine: `${cpus().length} × ${String(machine['cpuModel'])}, Node ${process.version}, ${String(machine['natsServer'])}`, quick: options.quick });
    writeFileSync(join(outDir, `${date}-summary.md`), markdown);
    writeChart(outDir, date, summaryChart(results, targets.map((t) => t.name), date));
    console.log(`\n${markdown}`);
    for (const g of goals(results)) console.log(`goal: ${g.goal}: ${g.measured} → ${g.met === undefined ? 'not measured' : g.met ? 'met' : 'NOT met'}`);
    console.log(`\nwritten ${outDir}/${date}-{${scenarios.map((s) => s.name).join(',')},summary}.{json,md,svg}`);
    await stopTargets(targets);
    if (options.cpuProf) console.log(`CPU profiles of the proxies in ${stateDir}/cpu-prof`);
    else rmSync(stateDir, { recursive: true, force: true });
  } catch (err: unknown) {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    await stopTargets(targets);
    console.error(`state and logs kept in ${stateDir}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
  }
}

await main();

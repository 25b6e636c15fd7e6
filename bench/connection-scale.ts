// `make bench-connections`: ≥ 100,000 concurrent idle MQTT connections across several proxy processes, held
// with keepalive traffic, 0 drops expected. The machine allows 20,000 file descriptors per process, so it runs
// a local fleet of 6 proxies (3 shards, Redis sessions) and forks 6 load-generator processes (bench/lib/
// idle-worker.ts), worker i connecting to proxy i from its own source addresses 127.0.1.x (each source address
// has its own ephemeral-port range). Reports connect time, drops, PINGREQ/PINGRESP counts and each proxy's RSS
// per connection (RSS with the connections minus RSS before, divided by its connections).
//
//   npx tsx bench/connection-scale.ts [--connections 100000] [--proxies 6] [--hold 300] [--keepalive 60]
//
// Writes bench/results/<date>-connection-scale.json. Stops by itself: the workers close after a bound, and a
// watchdog stops everything if a phase overruns.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFleet, type Fleet } from '../e2e/src/fleet/fleet.js';
import { freeFleetPorts } from '../e2e/src/fleet/free-ports.js';
import type { IdleWorkerMessage, IdleWorkerTask } from './lib/idle-worker.js';
import type { IdlePoolCounts } from './lib/idle-pool.js';
import { procCpuSeconds, procRssMiB } from './lib/proc-stats.js';
import { round, sum } from './lib/samples.js';
import { machineInfo } from './lib/throughput-report.js';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function option(args: readonly string[], flag: string, fallback: number): number {
  const at = args.indexOf(flag);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number`);
  return value;
}

interface Worker {
  readonly child: ChildProcess;
  counts: IdlePoolCounts | undefined;
  rssMiB: number;
  openedSeconds: number | undefined;
  readonly exited: Promise<void>;
}

function startWorker(task: IdleWorkerTask): Worker {
  const child = fork(join(ROOT, 'bench', 'lib', 'idle-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const worker: Worker = { child, counts: undefined, rssMiB: 0, openedSeconds: undefined, exited: new Promise((done) => child.once('exit', () => done())) };
  child.on('message', (message: IdleWorkerMessage) => {
    worker.counts = message.counts;
    if (message.type !== 'closed') worker.rssMiB = message.rssMiB;
    if (message.type === 'opened') worker.openedSeconds = message.seconds;
  });
  child.send(task);
  return worker;
}

const total = (workers: readonly Worker[], key: keyof Omit<IdlePoolCounts, 'firstErrors'>): number => sum(workers.map((w) => w.counts?.[key] ?? 0));

function proxyRss(fleet: Fleet): number[] {
  return Array.from({ length: fleet.config.proxies }, (_, i) => procRssMiB(fleet.proxy(i)?.pid ?? 0) ?? 0);
}

/** Worker i connects to proxy i from its own eight source addresses 127.0.1.x. */
function startWorkers(fleet: Fleet, plan: { connections: number; perProxy: number; keepaliveSeconds: number; maxSeconds: number }): Worker[] {
  const run = Date.now().toString(36);
  return fleet.proxyEndpoints.map((endpoint, w) => {
    const url = new URL(endpoint.mqttUrl);
    return startWorker({
      targets: [{ host: url.hostname, port: Number(url.port) }],
      // bind() to a source address with port 0 slows down sharply past ~7,000 ports per address here: 8 each.
      sourceAddresses: Array.from({ length: 8 }, (_, k) => `127.0.1.${String(10 + 8 * w + k)}`),
      connections: Math.max(0, Math.min(plan.perProxy, plan.connections - w * plan.perProxy)),
      clientIdPrefix: `scale-${run}-${String(w)}`,
      keepaliveSeconds: plan.keepaliveSeconds,
      concurrency: 50,
      maxSeconds: plan.maxSeconds,
    });
  });
}

interface HoldSample {
  atSeconds: number;
  open: number;
  drops: number;
  pingResponses: number;
  proxyRssMiB: number[];
}

/** Holds the connections for `seconds`, sampling every 30 s what is open, dropped and pinged, and the proxies' RSS. */
async function hold(fleet: Fleet, workers: readonly Worker[], seconds: number): Promise<HoldSample[]> {
  const pingsBefore = total(workers, 'pingResponses');
  const started = performance.now();
  const samples: HoldSample[] = [];
  while (performance.now() - started < seconds * 1000) {
    await sleep(Math.min(30_000, seconds * 1000 - (performance.now() - started) + 10));
    const sample = { atSeconds: round((performance.now() - started) / 1000, 0), open: total(workers, 'open'), drops: total(workers, 'drops'), pingResponses: total(workers, 'pingResponses') - pingsBefore, proxyRssMiB: proxyRss(fleet) };
    samples.push(sample);
    console.log(`  held ${sample.atSeconds} s: ${sample.open} open, ${sample.drops} drops, ${sample.pingResponses} PINGRESPs, proxy RSS ${sample.proxyRssMiB.join(' ')} MiB`);
  }
  return samples;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const connections = option(args, '--connections', 100_000);
  const proxies = option(args, '--proxies', 6);
  const holdSeconds = option(args, '--hold', 300);
  const keepaliveSeconds = option(args, '--keepalive', 60);
  const perProxy = Math.ceil(connections / proxies);
  if (perProxy > 19_000) throw new Error(`${perProxy} connections per proxy exceeds what 20,000 file descriptors allow; add --proxies`);
  const connectBoundSeconds = 300;
  const machine = machineInfo();
  console.log(`${connections} connections over ${proxies} proxies (${perProxy} each), keepalive ${keepaliveSeconds} s, held ${holdSeconds} s; load average ${loadavg().map((x) => round(x)).join(' ')}`);

  const stateDir = mkdtempSync(join(tmpdir(), 'shoal-connection-scale-'));
  const fleet = await startFleet({ proxies, shards: 3, ...(await freeFleetPorts(proxies)), stateDir }, { proxyEnv: { SHOAL_LOG_LEVEL: 'warn' } });
  const workers: Worker[] = [];
  const watchdog = setTimeout(() => {
    console.error('watchdog: the run overran; stopping');
    for (const w of workers) w.child.kill('SIGKILL');
    void fleet.stop().finally(() => process.exit(1));
  }, (connectBoundSeconds + holdSeconds + 180) * 1000);
  try {
    await sleep(2_000);
    const rssBefore = proxyRss(fleet);
    const redisBefore = procRssMiB(fleet.redis()?.pid ?? 0) ?? 0;
    const cpuBefore = Array.from({ length: proxies }, (_, i) => procCpuSeconds(fleet.proxy(i)?.pid ?? 0) ?? 0);
    const started = performance.now();
    workers.push(...startWorkers(fleet, { connections, perProxy, keepaliveSeconds, maxSeconds: connectBoundSeconds + holdSeconds + 60 }));
    while (workers.some((w) => w.openedSeconds === undefined) && performance.now() - started < connectBoundSeconds * 1000) {
      await sleep(5_000);
      console.log(`  connecting: ${total(workers, 'open')} open (${workers.map((w) => w.counts?.open ?? 0).join(' ')}), ${total(workers, 'failed')} failed, ${round((performance.now() - started) / 1000, 0)} s`);
    }
    // Each worker reports how long its own connects took; the slowest is the fleet's connect time.
    const connectSeconds = round(Math.max(...workers.map((w) => w.openedSeconds ?? (performance.now() - started) / 1000)), 1);
    const openAtStart = total(workers, 'open');
    const cpuAfterConnect = Array.from({ length: proxies }, (_, i) => procCpuSeconds(fleet.proxy(i)?.pid ?? 0) ?? 0);
    console.log(`${openAtStart} connections open after ${connectSeconds} s (${round(openAtStart / connectSeconds, 0)}/s); holding ${holdSeconds} s`);
    const samples = await hold(fleet, workers, holdSeconds);
    const rssAfter = proxyRss(fleet);
    const rssMinDuringHold = rssAfter.map((after, i) => Math.min(after, ...samples.map((x) => x.proxyRssMiB[i] ?? after)));
    const perConnection = (rss: readonly number[]): (number | undefined)[] => rss.map((after, i) => {
      const n = workers[i]?.counts?.open ?? 0;
      return n === 0 ? undefined : round(((after - (rssBefore[i] ?? 0)) * 1024) / n, 2);
    });
    const perConnectionKiB = perConnection(rssAfter);
    const result = {
      date: new Date().toISOString(),
      command: `npx tsx bench/connection-scale.ts ${args.join(' ')}`.trim(),
      machine,
      loadavgAtEnd: loadavg().map((x) => round(x)),
      settings: { connections, proxies, perProxy, holdSeconds, keepaliveSeconds, shards: 3, sessions: 'redis', mqtt: '3.1.1, clean session, no TLS' },
      connectSeconds,
      connectsPerSecond: round(openAtStart / connectSeconds, 0),
      proxyCpuSecondsForConnects: cpuAfterConnect.map((c, i) => round(c - (cpuBefore[i] ?? 0))),
      openAtStartOfHold: openAtStart,
      openAtEnd: total(workers, 'open'),
      failedConnects: total(workers, 'failed'),
      drops: total(workers, 'drops'),
      pingsSent: total(workers, 'pingsSent'),
      pingResponses: total(workers, 'pingResponses'),
      firstErrors: workers.flatMap((w) => w.counts?.firstErrors ?? []).slice(0, 10),
      proxyRssBeforeMiB: rssBefore,
      proxyRssAfterMiB: rssAfter,
      proxyKiBPerConnection: perConnectionKiB,
      proxyRssMinDuringHoldMiB: rssMinDuringHold,
      proxyKiBPerConnectionAtMinRss: perConnection(rssMinDuringHold),
      redisRssMiB: { before: redisBefore, after: procRssMiB(fleet.redis()?.pid ?? 0) ?? 0 },
      loadGeneratorRssMiB: workers.map((w) => w.rssMiB),
      samples,
    };
    const outDir = join(ROOT, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    const outFile = join(outDir, `${result.date.slice(0, 10)}-connection-scale.json`);
    writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\n| connections open (start → end of hold) | failed connects | drops | connect time (s) | PINGREQ sent / PINGRESP received | proxy KiB per connection | load avg at end |`);
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    console.log(`| ${openAtStart} → ${result.openAtEnd} | ${result.failedConnects} | ${result.drops} | ${connectSeconds} | ${result.pingsSent} / ${result.pingResponses} | ${perConnectionKiB.join(', ')} | ${result.loadavgAtEnd.join(' ')} |`);
    console.log(`\nwritten ${outFile}`);
  } finally {
    for (const w of workers) if (w.child.connected) w.child.send('close');
    await Promise.race([Promise.all(workers.map((w) => w.exited)), sleep(60_000)]);
    for (const w of workers) w.child.kill('SIGKILL');
    await fleet.stop();
    clearTimeout(watchdog);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetConfig } from '../e2e/src/fleet/fleet-config.js';
import { startFleet } from '../e2e/src/fleet/fleet.js';
import { freeFleetPorts } from '../e2e/src/fleet/free-ports.js';
import type { Fleet } from '../e2e/src/fleet/fleet.js';
import { Publisher } from './lib/publisher.js';
import { RawMqttClient } from './lib/raw-mqtt.js';
import type { LoadQoS } from './lib/raw-mqtt.js';
import { FleetProbe } from './lib/fleet-probe.js';
import { PairTracker } from './lib/pair-tracker.js';
import { writeProfilingMain } from './lib/profiling-main.js';
import { cpuReport, selfAndAncestors } from './lib/proc-stats.js';
import { diffSeries, histogramDelta } from './lib/prom-text.js';
import { round, sum } from './lib/samples.js';
import { parseOptions, type Options } from './lib/throughput-options.js';
import { machineInfo, markdown, notes, writeResults, type ScenarioResult, type ShardCounters } from './lib/throughput-report.js';
import { setTimeout as sleep } from 'node:timers/promises';

const SETTLE_MS = 30_000; // longest wait for the previous scenario's backlog (FleetProbe.settle)

// ------------------------------------------------------------------------------------------- scenarios

interface Scenario {
  readonly name: string;
  readonly qos: LoadQoS;
  /** Messages per second per publisher; absent = as fast as possible. */
  readonly ratePerPair?: number;
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

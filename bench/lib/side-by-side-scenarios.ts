// The scenarios of the side-by-side benchmark, each run against one system (bench/lib/targets.ts) with the
// same load generator: publish/subscribe flows (1:1 pairs at QoS 0 and 1, QoS 1 at half the rate and at the
// highest rate within a p99 bound, fan-in, fan-out), idle connections, CONNECT rate with persistent sessions, and
// persistent-session replay.
import { performance } from 'node:perf_hooks';
import { drive as connectLoops } from './connect-loop.js';
import type { FlowResult } from './flow.js';
import { flowSpec, measureFlow, settleBefore, topicsOf } from './flow-measure.js';
import { IdlePool } from './idle-pool.js';
import { rssBackTo, settledRss, sumRssMiB } from './process-rss.js';
import type { QuietReport } from './quiet-machine.js';
import { ResourceMeter, type ResourceReport } from './resource-meter.js';
import { replay, type ReplayResult } from './replay.js';
import { Samples, round, type Percentiles } from './samples.js';
import { sloSearch } from './slo-scenario.js';
import type { SloResult } from './slo-search.js';
import type { Target } from './targets.js';

export interface BenchSettings {
  readonly quick: boolean;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly drainSeconds: number;
  readonly pairs: number;
  readonly fanInPublishers: number;
  readonly fanOutSubscribers: number;
  readonly payloadBytes: number;
  readonly window: number;
  readonly e2eWindow: number;
  readonly idleConnections: number;
  readonly connectSeconds: number;
  readonly connectConcurrency: number;
  readonly replayMessages: number;
  /** Replay: the wait for queued messages ends after this long without one. */
  readonly replayStallMs: number;
  /** Idle connections: the pause between the last CONNACK and reading RSS. */
  readonly idleSettleMs: number;
  /** `--half-rate`: the half-rate scenario's rate (msg/s) instead of half of this run's QoS 1 rate. */
  readonly halfRatePerSecond?: number;
  /** pairs-qos1-slo: the PUBACK p99 bound (ms), the probes of the search and each probe's measured seconds. */
  readonly sloBoundMs: number;
  readonly sloProbes: number;
  readonly sloSeconds: number;
  readonly runId: string;
}

export interface IdleResult {
  connections: number;
  failed: number;
  /** RSS of the connection-holding processes (the fleet: both proxies) before and with the connections. */
  rssBeforeMiB: number;
  rssAfterMiB: number;
  kibPerConnection: number;
  /**
   * What one more connection costs a running holder: the RSS added by the second half of the connections (read
   * 3 s after each half), per connection. The first half pays the fixed costs of a fresh process (V8's young
   * generation grows to its maximum, 2 × 16 MiB per proxy, code is compiled), which `kibPerConnection` spreads over
   * the connections; a proxy holding devices for days pays them once.
   */
  marginalKibPerConnection?: number;
  /** The same over every process of the system (the fleet: proxies, shards, Redis). */
  systemKibPerConnection: number;
  /**
   * The holders' lowest RSS after the heap settled: sampled every second after the first read, for at most 60 s
   * (quick: 5 s), ending 5 s after the RSS fell 10 % below the first read with no new low since. The first read
   * still holds the garbage of the CONNECTs and a grown young generation; an idle Node process gives them back only
   * when V8's memory reducer runs a full GC (tens of seconds after the allocations stop: ~50 s in one run here).
   */
  settled?: { seconds: number; rssMiB: number; kibPerConnection: number };
}

export interface ConnectResult {
  endpoint: string;
  connacksPerSecond: number;
  sessionPresent: number;
  failed: number;
  latencyMs: Percentiles | undefined;
  cpuMicrosecondsPerConnect?: number;
}

export interface SystemResult {
  system: string;
  settledBeforeSeconds: number;
  /** The wait for the whole machine to go quiet before the scenario (quiet-machine.ts). */
  quietBefore?: QuietReport;
  resources: ResourceReport;
  /** CPU seconds of the system's processes per 100,000 delivered messages (flows) or CONNECTs. */
  cpuSecondsPer100k?: number;
  flow?: FlowResult;
  idle?: IdleResult;
  connect?: ConnectResult;
  replay?: ReplayResult;
  /** pairs-qos1-slo: the highest paced rate within the p99 bound, and every probe. */
  slo?: SloResult;
  skipped?: string;
}

export interface ScenarioDefinition {
  readonly name: string;
  readonly title: string;
  /** Runs on one system; `previous` holds this run's earlier results (the half-rate scenario reads the QoS 1 one). */
  run(target: Target, settings: BenchSettings, previous: ReadonlyMap<string, ReadonlyMap<string, SystemResult>>): Promise<SystemResult>;
}

const pairs = (qos: 0 | 1): ScenarioDefinition['run'] => (target, settings) => {
  const topics = topicsOf(`pairs${qos}`, settings.pairs, settings.runId);
  return measureFlow(target, flowSpec(target, settings, `pairs-qos${qos}`, {
    qos,
    publishers: topics.map((topic) => ({ endpoint: target.publishTo, topic })),
    subscribers: topics.map((topic, i) => ({ endpoint: target.subscribeTo, filter: topic, publishers: [i] })),
  }));
};

const halfRate: ScenarioDefinition['run'] = (target, settings, previous) => {
  const full = previous.get('pairs-qos1')?.get(target.name)?.flow;
  const rate = settings.halfRatePerSecond ?? (full === undefined || full.publishedPerSecond === 0 ? 1_000 : full.publishedPerSecond / 2);
  const topics = topicsOf('half1', settings.pairs, settings.runId);
  return measureFlow(target, flowSpec(target, settings, 'pairs-qos1-half-rate', {
    qos: 1,
    ratePerPublisher: rate / settings.pairs,
    publishers: topics.map((topic) => ({ endpoint: target.publishTo, topic })),
    subscribers: topics.map((topic, i) => ({ endpoint: target.subscribeTo, filter: topic, publishers: [i] })),
  }));
};

const fanIn: ScenarioDefinition['run'] = (target, settings) => {
  const topics = topicsOf('fanin', settings.fanInPublishers, settings.runId);
  return measureFlow(target, flowSpec(target, settings, 'fan-in', {
    qos: 0,
    e2eWindow: Math.max(16, Math.round((settings.e2eWindow * settings.pairs) / settings.fanInPublishers)),
    publishers: topics.map((topic) => ({ endpoint: target.publishTo, topic })),
    subscribers: [{ endpoint: target.subscribeTo, filter: `bench/${settings.runId}/fanin/+`, publishers: topics.map((_, i) => i) }],
  }));
};

const fanOut: ScenarioDefinition['run'] = (target, settings) => {
  const topic = `bench/${settings.runId}/fanout`;
  return measureFlow(target, {
    ...flowSpec(target, settings, 'fan-out', {
      qos: 0,
      e2eWindow: 64,
      publishers: [{ endpoint: target.publishTo, topic }],
      subscribers: Array.from({ length: settings.fanOutSubscribers }, (_, j) => ({ endpoint: target.endpoints[j % target.endpoints.length] ?? target.subscribeTo, filter: topic, publishers: [0] })),
    }),
    connectConcurrency: 100,
  });
};

const idle: ScenarioDefinition['run'] = async (target, settings) => {
  const { settledBeforeSeconds, quietBefore } = await settleBefore(target);
  const meter = new ResourceMeter(target.pids).watchRss();
  const holdersBefore = sumRssMiB(target.connectionPids);
  const systemBefore = sumRssMiB(target.pids);
  meter.start();
  const pool = new IdlePool({
    targets: target.endpoints,
    sourceAddresses: Array.from({ length: 8 }, (_, i) => `127.0.0.${String(40 + i)}`),
    clientIdPrefix: `${settings.runId}-${target.name}-idle`,
    keepaliveSeconds: 60,
    concurrency: 100,
  });
  try {
    const pause = (): Promise<void> => new Promise((done) => setTimeout(done, settings.idleSettleMs)); // let the servers finish the CONNECT work
    const firstHalf = Math.floor(settings.idleConnections / 2);
    await pool.open(firstHalf);
    await pause();
    const holdersAtHalf = sumRssMiB(target.connectionPids);
    const openAtHalf = pool.counts.open;
    await pool.open(settings.idleConnections - firstHalf);
    await pause();
    const holdersAfter = sumRssMiB(target.connectionPids);
    const systemAfter = sumRssMiB(target.pids);
    const n = Math.max(1, pool.counts.open);
    const settled = await settledRss(target.connectionPids, settings.quick ? 2_000 : 5_000, settings.quick ? 5_000 : 60_000);
    return {
      system: target.name,
      settledBeforeSeconds,
      quietBefore,
      resources: meter.stop(),
      idle: {
        connections: pool.counts.open,
        failed: pool.counts.failed,
        rssBeforeMiB: round(holdersBefore, 1),
        rssAfterMiB: round(holdersAfter, 1),
        kibPerConnection: round(((holdersAfter - holdersBefore) * 1024) / n, 2),
        marginalKibPerConnection: round(((holdersAfter - holdersAtHalf) * 1024) / Math.max(1, pool.counts.open - openAtHalf), 2),
        systemKibPerConnection: round(((systemAfter - systemBefore) * 1024) / n, 2),
        settled: { seconds: settled.seconds, rssMiB: round(settled.rssMiB, 1), kibPerConnection: round(((settled.rssMiB - holdersBefore) * 1024) / n, 2) },
      },
    };
  } finally {
    await pool.close();
    // Closing 10,000 connections leaves a Node proxy ~120 MiB of garbage that V8 collects ~25 s later; without this
    // wait the next scenarios pay for it (docs/performance.md, "Where the goals stand"). Bounded for every system.
    await rssBackTo(target.connectionPids, holdersBefore * 1.25, settings.quick ? 5_000 : 45_000);
  }
};

const connectRate: ScenarioDefinition['run'] = async (target, settings) => {
  const { settledBeforeSeconds, quietBefore } = await settleBefore(target);
  const meter = new ResourceMeter(target.pids).watchRss();
  const holder = [...target.connectionPids.values()][0] ?? 0;
  const holderMeter = new ResourceMeter(new Map([['holder', holder]]));
  meter.start();
  holderMeter.start();
  const started = performance.now();
  const outcome = await connectLoops(target.subscribeTo.port, (n) => `${settings.runId}-${target.name}-conn-${String(n)}`, settings.connectSeconds, settings.connectConcurrency, 2);
  const seconds = (performance.now() - started) / 1000;
  const resources = meter.stop();
  const holderCpu = holderMeter.stop().systemCpuSeconds;
  const samples = new Samples();
  for (const ms of outcome.latenciesMs) samples.add(ms);
  return {
    system: target.name,
    settledBeforeSeconds,
    quietBefore,
    resources,
    ...(outcome.accepted > 0 ? { cpuSecondsPer100k: round((resources.systemCpuSeconds * 1e5) / outcome.accepted, 3) } : {}),
    connect: {
      endpoint: `${target.subscribeTo.host}:${target.subscribeTo.port}`,
      connacksPerSecond: round(outcome.accepted / seconds, 0),
      sessionPresent: outcome.sessionPresent,
      failed: outcome.failed,
      latencyMs: samples.percentiles(),
      ...(outcome.accepted > 0 ? { cpuMicrosecondsPerConnect: round((holderCpu * 1e6) / outcome.accepted, 0) } : {}),
    },
  };
};

const replayScenario: ScenarioDefinition['run'] = async (target, settings) => {
  const { settledBeforeSeconds, quietBefore } = await settleBefore(target);
  const meter = new ResourceMeter(target.pids).watchRss();
  meter.start();
  const result = await replay(target, { messages: settings.replayMessages, clientId: `${settings.runId}-${target.name}-replay`, topic: `bench/${settings.runId}/replay`, payloadBytes: settings.payloadBytes, window: settings.window, stallMs: settings.replayStallMs });
  return { system: target.name, settledBeforeSeconds, quietBefore, resources: meter.stop(), replay: result };
};

export const SCENARIOS: readonly ScenarioDefinition[] = [
  { name: 'idle-connections', title: 'idle connections: RSS per connection', run: idle },
  { name: 'pairs-qos0', title: '1:1 pairs, QoS 0 (Shoal: publisher and subscriber on different proxies)', run: pairs(0) },
  { name: 'pairs-qos1', title: '1:1 pairs, QoS 1 (Shoal: PUBACK after the JetStream ack)', run: pairs(1) },
  { name: 'pairs-qos1-half-rate', title: '1:1 pairs, QoS 1, paced at half of each system’s own QoS 1 rate', run: halfRate },
  { name: 'pairs-qos1-slo', title: '1:1 pairs, QoS 1: the highest paced rate with PUBACK p99 within the bound (a bisection below each system’s QoS 1 rate)', run: sloSearch },
  { name: 'fan-in', title: 'fan-in, QoS 0: many publishers → one wildcard subscriber', run: fanIn },
  { name: 'fan-out', title: 'fan-out, QoS 0: one topic → many subscribers', run: fanOut },
  { name: 'connect-rate', title: 'CONNECT rate with persistent sessions (one endpoint)', run: connectRate },
  { name: 'reconnect-replay', title: 'persistent-session reconnect: QoS 1 messages queued while offline', run: replayScenario },
];

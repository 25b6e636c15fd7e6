// The results of the side-by-side benchmark: one JSON file per scenario, the markdown summary (a table per
// kind of scenario and the issue's goals as ratios to the baselines of the same run), and the chart.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { round } from './samples.js';
import type { ScenarioDefinition, SystemResult } from './side-by-side-scenarios.js';

export type ResultsByScenario = ReadonlyMap<string, ReadonlyMap<string, SystemResult>>;

const cell = (value: number | string | undefined): string => (value === undefined ? '–' : String(value));

export function writeScenarioJson(dir: string, date: string, scenario: ScenarioDefinition, common: Record<string, unknown>, results: ReadonlyMap<string, SystemResult>): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${date}-${scenario.name}.json`);
  const document = { ...common, scenario: scenario.name, title: scenario.title, loadavgAtEnd: loadavg().map((x) => round(x)), systems: Object.fromEntries(results) };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

function flowTable(name: string, results: ReadonlyMap<string, SystemResult>): string[] {
  const rows = [...results.values()].map((r) => {
    const f = r.flow;
    const l = f?.latencyMs;
    const a = f?.pubackLatencyMs;
    return `| ${name} | ${r.system} | ${cell(f?.publishedPerSecond)} | ${cell(f?.deliveredPerSecond)} | ${cell(f?.deliveryRatio)} | ${l === undefined ? '–' : `${l.p50} / ${l.p99}`} | ${a === undefined ? '–' : `${a.p50} / ${a.p99}`} | ${cell(r.cpuSecondsPer100k)} | ${r.resources.peakRssMiB} | ${r.resources.loadGeneratorCpuSeconds} / ${r.resources.otherCpuSeconds} | ${r.resources.loadavgAtStart[0] ?? '–'} |`;
  });
  return rows;
}

const FLOW_HEADER = [
  '| scenario | system | published msg/s | delivered msg/s | delivery ratio | e2e p50 / p99 (ms) | PUBACK p50 / p99 (ms) | system CPU s per 100k delivered | peak RSS MiB | CPU s: loadgen / other | load avg |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

interface Goal {
  goal: string;
  measured: string;
  met: boolean | undefined;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : round(a / b, 2);
}

type Lookup = (scenario: string, system: string) => SystemResult | undefined;

const check = (value: number | undefined, ok: (v: number) => boolean): boolean | undefined => (value === undefined ? undefined : ok(value));

function throughputGoals(get: Lookup): Goal[] {
  const q0 = ratio(get('pairs-qos0', 'shoal')?.flow?.deliveredPerSecond, get('pairs-qos0', 'mosquitto')?.flow?.deliveredPerSecond);
  const q1 = ratio(get('pairs-qos1', 'shoal')?.flow?.publishedPerSecond, get('pairs-qos1', 'nats-mqtt')?.flow?.publishedPerSecond);
  return [
    { goal: 'QoS 0 pairs delivered ≥ 1.0 × Mosquitto', measured: `${cell(q0)} ×`, met: check(q0, (v) => v >= 1) },
    { goal: 'QoS 1 pairs PUBACKed ≥ 1.5 × nats-server MQTT', measured: `${cell(q1)} ×`, met: check(q1, (v) => v >= 1.5) },
  ];
}

function latencyGoal(get: Lookup): Goal {
  const half = get('pairs-qos1-half-rate', 'shoal')?.flow;
  const puback = half?.pubackLatencyMs?.p99;
  return {
    goal: 'QoS 1 p99 at half rate ≤ 10 ms (PUBLISH→PUBACK; e2e shown too)',
    measured: `PUBACK p99 ${cell(puback)} ms, e2e p99 ${cell(half?.latencyMs?.p99)} ms at ${cell(half?.publishedPerSecond)} msg/s`,
    met: check(puback, (v) => v <= 10),
  };
}

function connectionGoals(get: Lookup): Goal[] {
  const idle = get('idle-connections', 'shoal')?.idle;
  const connect = get('connect-rate', 'shoal')?.connect;
  return [
    {
      // Judged on what one more connection costs a running proxy (the second half of the connections); the figures
      // that include a fresh process's fixed costs are shown too
      goal: 'idle RSS per connection on a proxy ≤ 6 KiB',
      measured: `${cell(idle?.marginalKibPerConnection)} KiB per added connection (second half of ${cell(idle?.connections)}); from a fresh proxy ${cell(idle?.kibPerConnection)} KiB 3 s after, ${cell(idle?.settled?.kibPerConnection)} KiB once settled (${cell(idle?.settled?.seconds)} s)`,
      met: check(idle?.marginalKibPerConnection, (v) => v <= 6),
    },
    { goal: 'CONNECT rate with sessions ≥ 3,000/s per proxy', measured: `${cell(connect?.connacksPerSecond)}/s (one proxy, ${cell(connect?.failed)} failed)`, met: check(connect?.connacksPerSecond, (v) => v >= 3_000) },
  ];
}

export function goals(results: ResultsByScenario): Goal[] {
  const get: Lookup = (scenario, system) => results.get(scenario)?.get(system);
  return [...throughputGoals(get), latencyGoal(get), ...connectionGoals(get)];
}

const table = (title: string, header: string[], rows: string[][]): string[] => [
  '', `## ${title}`, '', `| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`),
];

function idleTable(results: ReadonlyMap<string, SystemResult>): string[] {
  return table('Idle connections', ['system', 'connections', 'failed', 'RSS of the connection holders before → after (MiB)', 'KiB per added connection (second half)', 'KiB per connection from fresh, 3 s after', 'the same once settled (after s)', 'whole system KiB per connection from fresh'],
    [...results.values()].map((r) => [r.system, cell(r.idle?.connections), cell(r.idle?.failed), `${cell(r.idle?.rssBeforeMiB)} → ${cell(r.idle?.rssAfterMiB)}`, cell(r.idle?.marginalKibPerConnection), cell(r.idle?.kibPerConnection),
      `${cell(r.idle?.settled?.kibPerConnection)} (${cell(r.idle?.settled?.seconds)})`, cell(r.idle?.systemKibPerConnection)]));
}

function connectTable(results: ReadonlyMap<string, SystemResult>): string[] {
  return table('CONNECT rate, persistent sessions (clean=false), one endpoint', ['system', 'CONNACK/s', 'failed', 'latency p50 / p99 (ms)', 'CPU µs per CONNECT (endpoint process)', 'system CPU s per 100k CONNECTs', 'CPU s: loadgen / other'],
    [...results.values()].map((r) => {
      const c = r.connect;
      return [r.system, cell(c?.connacksPerSecond), cell(c?.failed), `${cell(c?.latencyMs?.p50)} / ${cell(c?.latencyMs?.p99)}`, cell(c?.cpuMicrosecondsPerConnect), cell(r.cpuSecondsPer100k), `${r.resources.loadGeneratorCpuSeconds} / ${r.resources.otherCpuSeconds}`];
    }));
}

function replayTable(results: ReadonlyMap<string, SystemResult>): string[] {
  return table('Persistent-session reconnect replay (QoS 1)', ['system', 'queued (PUBACKed)', 'session present', 'received', 'duplicates', 'seconds', 'msg/s', 'first message (ms)', 'ended by', 'error'],
    [...results.values()].map((r) => {
      const p = r.replay;
      return [r.system, cell(p?.acked), cell(p === undefined ? undefined : String(p.sessionPresent)), cell(p?.received), cell(p?.duplicates), cell(p?.seconds), cell(p?.messagesPerSecond), cell(p?.firstMessageMs), cell(p?.endedBy), cell(p?.error ?? r.skipped)];
    }));
}

function sloTable(results: ReadonlyMap<string, SystemResult>): string[] {
  return table('QoS 1 pairs: the highest paced rate within the PUBACK p99 bound', ['system', 'p99 bound (ms)', 'full-speed msg/s (pairs-qos1)', 'highest rate within the bound (msg/s)', 'share of full speed', 'probes: rate → PUBACK p99 ms (published/s), met'],
    [...results.values()].map((r) => {
      const o = r.slo;
      const share = o?.highestMetPerSecond === undefined || o.ceilingPerSecond === 0 ? undefined : `${Math.round((100 * o.highestMetPerSecond) / o.ceilingPerSecond)} %`;
      const probes = o?.probes.map((p) => `${p.ratePerSecond} → ${cell(p.pubackP99Ms)} (${p.publishedPerSecond}) ${p.met ? 'yes' : 'no'}`).join('; ');
      return [r.system, cell(o?.boundMs), cell(o?.ceilingPerSecond), cell(o?.highestMetPerSecond ?? (o === undefined ? undefined : 'none')), cell(share), cell(probes ?? r.skipped)];
    }));
}

export function summaryMarkdown(scenarios: readonly ScenarioDefinition[], results: ResultsByScenario, header: { date: string; command: string; machine: string; quick: boolean }): string {
  const lines: string[] = [
    `# Side-by-side benchmark, ${header.date}${header.quick ? ' (BENCH_QUICK=1: short intervals, small counts)' : ''}`,
    '',
    `\`${header.command}\` — ${header.machine}. The machine is shared: other engineers' builds and tests run on the same 2 cores; "other" is the CPU they took during each interval and "load avg" the 1-minute load average when the scenario started.`,
    '',
    '## Goals (issue 6), as ratios to the baselines measured in this run',
    '',
    '| goal | measured | met |',
    '| --- | --- | --- |',
    ...goals(results).map((g) => `| ${g.goal} | ${g.measured} | ${g.met === undefined ? 'not measured' : g.met ? 'yes' : 'no'} |`),
    '',
    '## Publish/subscribe',
    '',
    ...FLOW_HEADER,
  ];
  for (const s of scenarios) {
    const r = results.get(s.name);
    if (r !== undefined && [...r.values()].some((x) => x.flow !== undefined)) lines.push(...flowTable(s.name, r));
  }
  const sections: [string, (r: ReadonlyMap<string, SystemResult>) => string[]][] = [['pairs-qos1-slo', sloTable], ['idle-connections', idleTable], ['connect-rate', connectTable], ['reconnect-replay', replayTable]];
  for (const [name, render] of sections) {
    const r = results.get(name);
    if (r !== undefined) lines.push(...render(r));
  }
  return `${lines.join('\n')}\n`;
}

// Runs each fault `rounds` times under QoS 1 load and tallies, per fault: acknowledged, lost, duplicated and the
// time until traffic flows again end to end. Each round has its own load (own topics, own persistent
// subscriber): traffic, the fault, a probe from every publisher to the subscriber, traffic, then the load stops,
// every acknowledged message gets `settleMs` to arrive, and the fleet is restored for the next round.
import type { Fleet } from '../fleet/fleet.js';
import type { Fault } from './faults.js';
import { Qos1Load } from './qos1-load.js';

export interface ChaosOptions {
  readonly rounds: number;
  /** Traffic before and after each fault. */
  readonly trafficMs: number;
  /** Time every acknowledged message gets to arrive after the load stops. */
  readonly settleMs: number;
  readonly publishers: number;
  /** Messages per second per publisher. */
  readonly ratePerSecond: number;
  /** Longest wait for traffic to flow again after a fault. @default 20000 */
  readonly recoveryTimeoutMs?: number;
  /** Called after every round (progress on the terminal). */
  readonly onRound?: (fault: Fault, round: number, result: RoundResult) => void;
}

export interface RoundResult {
  readonly acknowledged: number;
  readonly lost: number;
  readonly duplicated: number;
  /**
   * From the end of the fault (process gone, restart done, ring switched) until a probe from every publisher
   * arrived; NaN when that did not happen within `recoveryTimeoutMs` (the round's counts are still taken).
   */
  readonly recoveryMs: number;
  /** How long the fault itself took (a rolling restart, a ring transition). */
  readonly faultMs: number;
}

export interface FaultResult {
  readonly fault: Fault;
  readonly rounds: readonly RoundResult[];
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Endpoints of every proxy of the fleet (clients rotate through them). */
function endpoints(fleet: Fleet): { host: string; port: number }[] {
  return fleet.proxyEndpoints.map((e) => ({ host: '127.0.0.1', port: Number(new URL(e.mqttUrl).port) }));
}

async function round(fleet: Fleet, fault: Fault, n: number, options: ChaosOptions): Promise<RoundResult> {
  const prefix = `chaos/${fault.name.split(' ')[0] ?? 'fault'}${n}x${Date.now().toString(36)}`;
  const load = await Qos1Load.start({
    endpoints: endpoints(fleet),
    prefix,
    publishers: options.publishers,
    ratePerSecond: options.ratePerSecond,
    publisherStart: n,
    // proxy 2n mod P: with 3 proxies, rounds 0, 3, 6, 9 kill the subscriber's proxy (faults.ts kills n mod P)
    subscriberStart: 2 * n,
  });
  try {
    await load.probe(30_000);
    await pause(options.trafficMs);
    const started = Date.now();
    await fault.inject(fleet, n);
    const faultMs = Date.now() - started;
    const recoveryMs = await load.probe(options.recoveryTimeoutMs ?? 20_000).catch(() => Number.NaN);
    await pause(options.trafficMs);
    load.pause();
    const counts = await load.settle(options.settleMs);
    return { ...counts, recoveryMs, faultMs };
  } finally {
    await load.close();
    await fault.restore(fleet, n);
  }
}

/** Runs every fault `options.rounds` times; a round that throws ends the run with that error. */
export async function runChaos(fleet: Fleet, faults: readonly Fault[], options: ChaosOptions): Promise<FaultResult[]> {
  const results: FaultResult[] = [];
  for (const fault of faults) {
    const rounds: RoundResult[] = [];
    for (let n = 0; n < options.rounds; n++) {
      const result = await round(fleet, fault, n, options);
      rounds.push(result);
      options.onRound?.(fault, n, result);
    }
    results.push({ fault, rounds });
  }
  return results;
}

/** The table `make chaos` prints: one row per fault, sums over its rounds and recovery percentiles. */
export function chaosTable(results: readonly FaultResult[]): string {
  const rows = [
    '| fault | rounds | acknowledged | lost | duplicated | recovery p50 / max (ms) | fault duration p50 (ms) | lost depends on offline replay |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { fault, rounds } of results) {
    const sum = (f: (r: RoundResult) => number): number => rounds.reduce((total, r) => total + f(r), 0);
    const sorted = (f: (r: RoundResult) => number): number[] => rounds.map(f).sort((a, b) => a - b);
    const p50 = (values: number[]): number => values[Math.floor(values.length / 2)] ?? Number.NaN;
    const recovery = rounds.map((r) => r.recoveryMs).filter((ms) => !Number.isNaN(ms)).sort((a, b) => a - b);
    const stuck = rounds.length - recovery.length;
    const recoveryText = `${recovery.length === 0 ? '-' : `${p50(recovery)} / ${recovery.at(-1) ?? ''}`}${stuck === 0 ? '' : ` (no traffic in ${stuck} rounds)`}`;
    rows.push(
      `| ${fault.name} | ${rounds.length} | ${sum((r) => r.acknowledged)} | ${sum((r) => r.lost)} | ${sum((r) => r.duplicated)} | ` +
        `${recoveryText} | ${p50(sorted((r) => r.faultMs))} | ${fault.needsReplay ? 'yes' : 'no'} |`,
    );
  }
  return rows.join('\n');
}

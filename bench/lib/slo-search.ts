// The highest paced rate at which a system keeps its PUBACK p99 within a bound ("throughput at a latency SLO"):
// a bisection between 0 and the system's full-speed rate, one short paced run per probe. The first probe is half
// the full-speed rate (the half-rate point); each next one halves the gap between the highest rate that
// met the bound and the lowest that did not. A probe meets it when its p99 is within the bound AND it published at
// least 97 % of the rate asked (a system that cannot keep up publishes less, and its p99 alone would flatter it).
// On a noisy machine a higher rate can pass where a lower one failed: the result is the highest passing rate
// below the lowest failing one, and every probe is reported.

export interface SloProbe {
  readonly ratePerSecond: number;
  /** What the probe published per second (QoS 1: PUBACKed). */
  readonly publishedPerSecond: number;
  readonly pubackP99Ms: number | undefined;
  readonly e2eP99Ms: number | undefined;
  readonly met: boolean;
}

export interface SloResult {
  readonly boundMs: number;
  /** The full-speed rate the search stayed below (this run's pairs-qos1). */
  readonly ceilingPerSecond: number;
  /** The highest probed rate that met the bound below the lowest that did not; undefined when none met it. */
  readonly highestMetPerSecond: number | undefined;
  readonly probes: readonly SloProbe[];
}

/** A fraction of the rate asked below which a probe counts as not keeping up. */
export const KEPT_UP_SHARE = 0.97;

export function probeMet(boundMs: number, ratePerSecond: number, publishedPerSecond: number, pubackP99Ms: number | undefined): boolean {
  return pubackP99Ms !== undefined && pubackP99Ms <= boundMs && publishedPerSecond >= KEPT_UP_SHARE * ratePerSecond;
}

/** The lowest rate that missed the bound (the ceiling when none did). */
function lowestMissed(probes: readonly SloProbe[], ceiling: number): number {
  return Math.min(ceiling, ...probes.filter((p) => !p.met).map((p) => p.ratePerSecond));
}

/** The highest rate that met the bound below the lowest one that missed it; undefined when none did. */
export function highestMet(probes: readonly SloProbe[], ceiling: number): number | undefined {
  const high = lowestMissed(probes, ceiling);
  const met = probes.filter((p) => p.met && p.ratePerSecond < high).map((p) => p.ratePerSecond);
  return met.length === 0 ? undefined : Math.max(...met);
}

/** The rate of the next probe: half the full-speed rate first, then halfway across the gap left. */
export function nextProbeRate(probes: readonly SloProbe[], ceiling: number): number {
  const low = highestMet(probes, ceiling) ?? 0;
  return Math.round((low + lowestMissed(probes, ceiling)) / 2);
}

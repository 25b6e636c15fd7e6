// The resident memory of a set of processes (a system under benchmark: its pids by name) over time: the sum now,
// the low it settles to once the heaps gave memory back, and the wait until it is back under a ceiling.
import { performance } from 'node:perf_hooks';
import { procRssMiB } from './proc-stats.js';
import { round, sum } from './samples.js';

/** The summed RSS of `pids` now (a process that exited, or has no resident memory, counts 0). */
export const sumRssMiB = (pids: ReadonlyMap<string, number>): number => sum([...pids.values()].map((pid) => procRssMiB(pid) ?? 0));

/** Samples the RSS of `pids` every second for at most `maxMs`, until it fell 10 % and `quietMs` brought no new low. */
export async function settledRss(pids: ReadonlyMap<string, number>, quietMs: number, maxMs: number): Promise<{ seconds: number; rssMiB: number }> {
  const started = performance.now();
  const first = sumRssMiB(pids);
  let lowest = first;
  let lowestAt = started;
  const settled = (): boolean => lowest < first * 0.9 && performance.now() - lowestAt >= quietMs;
  while (!settled() && performance.now() - started < maxMs) {
    await new Promise((done) => setTimeout(done, 1_000));
    const rss = sumRssMiB(pids);
    if (rss < lowest) {
      lowest = rss;
      lowestAt = performance.now();
    }
  }
  return { seconds: round((lowestAt - started) / 1000, 1), rssMiB: lowest };
}

/** Waits (polling every second, at most `maxMs`) until the RSS of `pids` is at most `ceilingMiB`. */
export async function rssBackTo(pids: ReadonlyMap<string, number>, ceilingMiB: number, maxMs: number): Promise<void> {
  const started = performance.now();
  while (sumRssMiB(pids) > ceilingMiB && performance.now() - started < maxMs) {
    await new Promise((done) => setTimeout(done, 1_000));
  }
}

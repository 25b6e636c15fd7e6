// Before a scenario, the side-by-side bench waits for the whole machine to go quiet, not only for the system under
// test: the systems stay up for the whole run, and what one of them still does after its turn (V8 sweeping a
// proxy's garbage, a nats-server flushing or compacting the JetStream store of its last scenario) would be paid by
// the next system measured. The same wait runs before every system, so none is favoured.
import { performance } from 'node:perf_hooks';
import { machineCpu } from './proc-stats.js';
import { round } from './samples.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface QuietOptions {
  /** Quiet = at most this many cores busy over one window (the whole machine, every process). Default 0.2. */
  readonly maxBusyCores?: number;
  /** Default 1,000 ms. */
  readonly windowMs?: number;
  /** The wait ends after this long even if the machine stayed busy (someone else's load). Default 10,000 ms. */
  readonly maxWaitMs?: number;
}

export interface QuietReport {
  /** How long the wait took. */
  readonly seconds: number;
  /** Cores busy over the last window (quiet when ≤ maxBusyCores). */
  readonly busyCores: number;
  readonly quiet: boolean;
}


/** Busy cores over each window until one is quiet or `maxWaitMs` passed. */
export async function waitForQuietMachine(options: QuietOptions = {}): Promise<QuietReport> {
  const maxBusy = options.maxBusyCores ?? 0.2;
  const windowMs = options.windowMs ?? 1_000;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const started = performance.now();
  let busyCores = Number.POSITIVE_INFINITY;
  do {
    const before = machineCpu();
    const at = performance.now();
    await sleep(windowMs);
    const after = machineCpu();
    const elapsed = (performance.now() - at) / 1000;
    busyCores = elapsed > 0 ? (after.busy - before.busy) / elapsed : 0;
  } while (busyCores > maxBusy && performance.now() - started < maxWaitMs);
  return { seconds: round((performance.now() - started) / 1000, 1), busyCores: round(busyCores, 2), quiet: busyCores <= maxBusy };
}

// What the subscribers of the 1:1 pairs of bench/fleet-throughput.ts received: per pair, the sequence range its
// publisher sent in the measured interval and how much of it arrived (in order or not), end-to-end and PUBACK
// latency, and the wait for the interval's messages to arrive after the publishers stopped.
import { performance } from 'node:perf_hooks';
import type { Delivery } from './raw-mqtt.js';
import { Samples, round, sum } from './samples.js';
import { setTimeout as sleep } from 'node:timers/promises';

const STALL_MS = 3_000; // the drain ends when nothing arrived for this long


/** Per pair: the sequence range sent in the interval and what the subscriber received of it. */
export class PairTracker {
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

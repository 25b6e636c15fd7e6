import { describe, expect, it } from '@jest/globals';
import { systemClock } from '../clock.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import { drainClients, type DrainTarget } from './client-drain.js';

/** A client that records when and how it was disconnected; its store finishes `storeMs` later. */
class RecordingTarget implements DrainTarget {
  inboundPending = 0;
  disconnectedAt: number | undefined;
  reason: number | undefined;
  reference: string | undefined;
  constructor(private readonly storeMs = 0) {
    if (storeMs > 0) this.inboundPending = 1;
  }
  disconnect(reasonCode: number, serverReference?: string): Promise<void> {
    this.disconnectedAt = Date.now();
    this.reason = reasonCode;
    this.reference = serverReference;
    if (this.storeMs > 0) setTimeout(() => (this.inboundPending = 0), this.storeMs);
    return Promise.resolve();
  }
}

describe('drainClients', () => {
  it('disconnects at the configured rate with 0x8B', async () => {
    const targets = Array.from({ length: 50 }, () => new RecordingTarget());
    const report = await drainClients(targets, { disconnectRatePerSecond: 200, timeoutMs: 10_000, settleMs: 1_000 }, systemClock);
    const times = targets.map((t) => t.disconnectedAt ?? Number.NaN);
    const spanMs = Math.max(...times) - Math.min(...times);
    // 49 intervals at 200/s take 245 ms; a slow machine may stretch it, never shrink it
    expect(spanMs).toBeGreaterThanOrEqual(230);
    expect(spanMs).toBeLessThan(1_500);
    expect(targets.every((t) => t.reason === ReasonCode.ServerShuttingDown)).toBe(true);
    expect(report).toMatchObject({ clients: 50, paced: 50, forced: 0, unfinishedStores: 0 });
  });

  it('disconnects what is left at once when the timeout passes, with 0x9C and the server reference', async () => {
    const targets = Array.from({ length: 100 }, () => new RecordingTarget());
    const report = await drainClients(
      targets,
      { disconnectRatePerSecond: 100, timeoutMs: 100, serverReference: 'other:1883', settleMs: 1_000 },
      systemClock,
    );
    expect(report.forced).toBeGreaterThan(50);
    expect(report.paced + report.forced).toBe(100);
    expect(targets.every((t) => t.reason === ReasonCode.UseAnotherServer && t.reference === 'other:1883')).toBe(true);
  });

  it('waits for in-flight stores before it returns, and reports those that outlive the settle time', async () => {
    const quick = new RecordingTarget(50);
    const done = await drainClients([quick], { disconnectRatePerSecond: 1000, timeoutMs: 1_000, settleMs: 1_000 }, systemClock);
    expect(quick.inboundPending).toBe(0);
    expect(done.unfinishedStores).toBe(0);
    const slow = new RecordingTarget(5_000);
    const stuck = await drainClients([slow], { disconnectRatePerSecond: 1000, timeoutMs: 1_000, settleMs: 50 }, systemClock);
    expect(stuck.unfinishedStores).toBe(1);
  });
});

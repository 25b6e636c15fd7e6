// Rate-limited draining of a stopping proxy's clients: disconnect at most `ratePerSecond` clients per second
// (so a rolling upgrade does not turn into a reconnect storm on the other proxies), everything left at once
// when the timeout passes, then wait for the QoS 1/2 stores the drained clients still have in flight, so
// that the shard connections close only after every store was answered by JetStream.
import type { Clock } from '../clock.js';
import { ReasonCode, type ReasonCode as ReasonCodeValue } from '../protocol/reason-codes.js';

/** A client as the drain sees it (ClientHandler implements it). */
export interface DrainTarget {
  /** Disconnects (v5: DISCONNECT with the reason code and Server Reference); resolves once the session is stored. */
  disconnect(reasonCode: ReasonCodeValue, serverReference?: string): Promise<void>;
  /** QoS 1/2 PUBLISHes received and not yet stored. */
  readonly inboundPending: number;
}

export interface DrainSettings {
  /** Clients disconnected per second. */
  readonly disconnectRatePerSecond: number;
  /** After this, whatever is left is disconnected at once; the stores get the same bound again. */
  readonly timeoutMs: number;
  /** When set, v5 clients get 0x9C Use Another Server with this Server Reference instead of 0x8B. */
  readonly serverReference?: string | undefined;
}

/** Bounds of the wait after the last disconnect: sessions stored, in-flight QoS 1/2 stores answered. */
export interface DrainWait {
  /** How long the closes and stores may take after the last disconnect (cover the JetStream publish timeout). */
  readonly settleMs: number;
}

/** What a drain did, for the log line and the tests. */
export interface DrainReport {
  readonly clients: number;
  /** Disconnected by the rate limiter before the timeout. */
  readonly paced: number;
  /** Disconnected at once when the timeout passed. */
  readonly forced: number;
  /** Clients whose in-flight stores had not finished when the wait for them gave up. */
  readonly unfinishedStores: number;
  readonly durationMs: number;
}

/** Shortest pause between two batches; a batch then holds rate / 100 clients. */
const MIN_TICK_MS = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Disconnects `targets` at the configured rate and waits for their in-flight stores; never rejects. */
export async function drainClients(targets: readonly DrainTarget[], settings: DrainSettings & DrainWait, clock: Clock): Promise<DrainReport> {
  const started = clock.now();
  const deadline = started + settings.timeoutMs;
  const reason = settings.serverReference === undefined ? ReasonCode.ServerShuttingDown : ReasonCode.UseAnotherServer;
  const tickMs = Math.max(MIN_TICK_MS, Math.floor(1000 / settings.disconnectRatePerSecond));
  const closed: Promise<void>[] = [];
  let next = 0;
  let paced = 0;
  while (next < targets.length) {
    const now = clock.now();
    const forced = now >= deadline;
    // the first client goes at once; then the count allowed grows with the time elapsed
    const allowed = forced ? targets.length : Math.min(targets.length, 1 + Math.floor(((now - started) * settings.disconnectRatePerSecond) / 1000));
    for (; next < allowed; next++) {
      const target = targets[next];
      if (target !== undefined) closed.push(target.disconnect(reason, settings.serverReference).catch(() => undefined));
    }
    if (!forced) paced = next;
    if (next < targets.length) await sleep(Math.min(tickMs, Math.max(1, deadline - clock.now())));
  }
  const settleUntil = clock.now() + settings.settleMs;
  await settledWithin(Promise.all(closed), settings.settleMs);
  const unfinishedStores = await waitForStores(targets, settleUntil, clock);
  return { clients: targets.length, paced, forced: targets.length - paced, unfinishedStores, durationMs: clock.now() - started };
}

/** Waits for `promise` at most `ms` (the timer is cleared, so nothing is left behind). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([promise, timeout]);
  clearTimeout(timer);
}

/** Polls until no target has a store in flight, or until `untilMs`; returns how many still had one. */
async function waitForStores(targets: readonly DrainTarget[], untilMs: number, clock: Clock): Promise<number> {
  for (;;) {
    const pending = targets.filter((t) => t.inboundPending > 0).length;
    if (pending === 0 || clock.now() >= untilMs) return pending;
    await sleep(MIN_TICK_MS);
  }
}

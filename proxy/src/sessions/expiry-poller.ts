// Fires what the shared expiry index says is due: delayed wills whose session was not resumed in time, and
// sessions whose expiry passed. Every proxy runs one; `claimDue` hands each entry to exactly one of them
// fleet-wide, so a will left by a proxy that died is published by another one. Each poll is also this proxy's
// heartbeat: a proxy not heard from for `livenessMs` is claimed by one of the others, which orphans the sessions
// it held connected (their expiry starts, their armed wills become due after their delay).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { MessageRouter } from '../protocol/ports.js';
import { willMessage } from '../protocol/will.js';
import type { DueEntry, SessionStore } from './session-store.js';

/** What the poller counts; implemented by ProxyMetrics. */
export interface ExpiryMetrics {
  /** A delayed will was published. */
  willFired(): void;
  /** A claimed will could not be published after every attempt: it is lost. */
  willLost(): void;
  /** A session expired and was removed. */
  sessionExpired(): void;
  /** A claimed entry could not be read back. */
  corruptEntry(): void;
  /** Sessions of a dead proxy (or of this proxy's previous life) were looked at to be orphaned. */
  sessionsOrphaned(count: number): void;
}

export interface ExpiryPollerOptions {
  readonly store: Pick<SessionStore, 'claimDue' | 'heartbeat' | 'orphanSessions'>;
  /** This proxy, as it opens sessions (OpenOptions.proxyId). */
  readonly proxyId: string;
  /** A proxy whose heartbeat is older than this is taken for dead; several poll intervals. */
  readonly livenessMs: number;
  /**
   * The other proxies took this one for dead (it did not poll for `livenessMs`: stalled, or cut off from the store)
   * and orphaned its sessions: its connections should be closed, so that their clients open them again.
   */
  readonly onTakenForDead?: () => void;
  readonly router: Pick<MessageRouter, 'publish'>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ExpiryMetrics;
  /** Mean time between polls. */
  readonly intervalMs: number;
  /** Entries claimed per call of `claimDue`; a full batch is followed by another call at once. */
  readonly batchLimit: number;
  /** Each wait is `intervalMs` ± `jitter`/2 of it, so the proxies of a fleet do not poll in step. Default 0.2. */
  readonly jitter?: number;
  readonly random?: () => number;
  /** Polls at which a claimed will is published before it is given up (the shard owning its topic is down). Default 5. */
  readonly publishAttempts?: number;
}

type WillEntry = Extract<DueEntry, { kind: 'will' }>;

/** Most claimed wills kept for another attempt; beyond it the oldest is given up. */
const MAX_RETRIES = 10_000;

/**
 * The de-duplication id of a claimed will: the same for every attempt to publish it, so a retry after a publish
 * whose acknowledgement was lost is stored once (JetStream `Nats-Msg-Id`). A client id may hold any UTF-8: it is
 * hashed.
 */
export function willMessageId(clientId: string, epoch: number): string {
  return `will.${createHash('sha256').update(clientId).digest('base64url').slice(0, 22)}.${epoch.toString(36)}`;
}

/** Polls the store's expiry index (see the module comment); `start` arms the timer, `close` stops it. */
export class ExpiryPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private registered = false;
  private retries: { readonly entry: WillEntry; attempts: number }[] = [];

  constructor(private readonly options: ExpiryPollerOptions) {}

  /**
   * Orphans the sessions this proxy id held connected in a previous life (a restart with the same id, before the
   * others took it for dead), registers its first heartbeat and arms the timer. Call before accepting connections:
   * the sessions opened from then on are this life's, and a proxy killed right after would otherwise be unknown.
   */
  async start(): Promise<void> {
    await this.orphan(this.options.proxyId, this.options.clock.now());
    await this.heartbeat();
    this.arm();
  }

  /** Claims and settles what is due now. A call while a poll runs makes that poll run once more (coalesced). */
  poll(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Fires every pending will and ends every session now, whatever their due time: the store ends with this process
   * (the memory store of a single proxy that is stopping) [MQTT-3.1.3-9].
   */
  async fireAll(): Promise<void> {
    const { store, batchLimit } = this.options;
    for (let due = await store.claimDue(Number.MAX_SAFE_INTEGER, batchLimit); due.length > 0; due = await store.claimDue(Number.MAX_SAFE_INTEGER, batchLimit)) {
      await Promise.all(due.map((entry) => this.settle(entry)));
    }
  }

  /** Stops polling and waits for a poll in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private arm(): void {
    if (this.closed) return;
    const { intervalMs, jitter = 0.2, random = Math.random } = this.options;
    const waitMs = Math.max(0, Math.round(intervalMs * (1 - jitter / 2 + random() * jitter)));
    this.timer = setTimeout(() => void this.poll().finally(() => this.arm()), waitMs);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.pollOnce();
    } while (this.rerun);
  }

  /** Another poll was asked for (or the last batch was full) while this one ran. */
  private get rerun(): boolean {
    return this.again && !this.closed;
  }

  private async pollOnce(): Promise<void> {
    const { store, clock, log, batchLimit } = this.options;
    const retrying = this.retries;
    this.retries = [];
    await this.heartbeat();
    let claimed: DueEntry[] = [];
    try {
      claimed = await store.claimDue(clock.now(), batchLimit);
    } catch (err: unknown) {
      log.warn({ err }, 'expiry index not polled');
    }
    await Promise.all([...retrying.map((retry) => this.publish(retry.entry, retry.attempts)), ...claimed.map((entry) => this.settle(entry))]);
    if (claimed.length >= batchLimit) this.again = true; // more may be due: go on at once
  }

  private async heartbeat(): Promise<void> {
    const { store, clock, log, proxyId, livenessMs } = this.options;
    try {
      const { known, dead } = await store.heartbeat(proxyId, clock.now(), livenessMs);
      if (!known && this.registered) {
        log.error({ livenessMs }, 'this proxy was taken for dead by the others (no heartbeat in time); closing its connections');
        this.options.onTakenForDead?.();
      }
      this.registered = true;
      for (const { proxyId: other, lastSeenMs } of dead) {
        log.warn({ proxy: other, lastSeenMs, livenessMs }, 'proxy not heard from; orphaning its sessions');
        await this.orphan(other, lastSeenMs); // its connections closed when it was last heard from
      }
    } catch (err: unknown) {
      log.warn({ err }, 'heartbeat not recorded');
    }
  }

  /** Orphans every session `proxyId` held connected as disconnected at `atMs`, a batch at a time. */
  private async orphan(proxyId: string, atMs: number): Promise<void> {
    const { store, log, metrics, batchLimit } = this.options;
    try {
      for (let n = await store.orphanSessions(proxyId, atMs, batchLimit); n > 0; n = await store.orphanSessions(proxyId, atMs, batchLimit)) {
        metrics.sessionsOrphaned(n);
      }
    } catch (err: unknown) {
      log.warn({ err, proxy: proxyId }, 'sessions of a dead proxy not orphaned');
    }
  }

  private async settle(entry: DueEntry): Promise<void> {
    const { log, metrics } = this.options;
    switch (entry.kind) {
      case 'will':
        await this.publish(entry, 0);
        return;
      case 'session-expired':
        metrics.sessionExpired();
        log.debug({ clientId: entry.clientId, epoch: entry.epoch }, 'session expired');
        return;
      case 'corrupt':
        metrics.corruptEntry();
        log.warn({ clientId: entry.clientId, err: entry.error }, 'due will unreadable; dropped');
        return;
    }
  }

  /** Publishes a claimed will as its CONNECT asked (QoS, retain), its message expiry running from now [MQTT-3.1.3-9]. */
  private async publish(entry: WillEntry, attemptsBefore: number): Promise<void> {
    const { router, clock, log, metrics, publishAttempts = 5 } = this.options;
    const { clientId, epoch, will } = entry;
    try {
      await router.publish(willMessage(will, clock.now()), { messageId: willMessageId(clientId, epoch) });
      metrics.willFired();
      log.debug({ clientId, topic: will.message.topic, lateMs: clock.now() - entry.dueMs }, 'delayed will published');
    } catch (err: unknown) {
      const attempts = attemptsBefore + 1;
      if (attempts < publishAttempts && !this.closed && this.retries.length < MAX_RETRIES) {
        this.retries.push({ entry, attempts });
        log.warn({ err, clientId, topic: will.message.topic, attempts }, 'delayed will not published; retrying at the next poll');
        return;
      }
      metrics.willLost();
      log.error({ err, clientId, topic: will.message.topic, attempts }, 'delayed will not published; given up');
    }
  }
}

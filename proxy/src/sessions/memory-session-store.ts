import type { Clock } from '../clock.js';
import type { Will } from '../protocol/will.js';
import { emptySession, MemorySessionData, resumable, type MemorySession } from './memory-session-data.js';
import { decodeSession, decodeWill, encodeState, encodeSubscription, encodeWill } from './session-codec.js';
import { CorruptSessionError, StaleSessionError } from './session-errors.js';
import {
  SESSION_NEVER_EXPIRES,
  type DueEntry,
  type Heartbeat,
  type OpenedSession,
  type OpenOptions,
  type SessionCursors,
  type SessionRecord,
  type SessionStore,
  type SubscriptionChange,
} from './session-store.js';

export { MemorySessionData } from './memory-session-data.js';

export interface MemorySessionStoreOptions {
  /** Shared with other stores; a new one by default. */
  readonly data?: MemorySessionData;
  /** How often forgotten sessions and wills are swept (by the injected clock). Default 60 s. */
  readonly sweepIntervalMs?: number;
  /** As RedisSessionStoreOptions.expiryGraceMs. Default 1 h. */
  readonly expiryGraceMs?: number;
  /** As RedisSessionStoreOptions.tombstoneMs. Default 10 min. */
  readonly tombstoneMs?: number;
}

/**
 * Sessions in this process's memory: for a single proxy and for tests. The same contract as the Redis store
 * (epochs, fencing, the expiry index), and the same encoding. Each method runs to completion before another
 * starts, which is the atomicity the Redis scripts give.
 */
export class MemorySessionStore implements SessionStore {
  readonly data: MemorySessionData;
  private readonly graceMs: number;
  private readonly tombstoneMs: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: Clock,
    options: MemorySessionStoreOptions = {},
  ) {
    this.data = options.data ?? new MemorySessionData();
    this.graceMs = options.expiryGraceMs ?? 3_600_000;
    this.tombstoneMs = options.tombstoneMs ?? 600_000;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweeper.unref();
  }

  open(clientId: string, options: OpenOptions): Promise<OpenedSession> {
    return this.attempt(() => {
      const { sessions, wills, tombstones } = this.data;
      const { nowMs } = options;
      const stored = sessions.get(clientId);
      const last = stored?.epoch ?? tombstones.get(clientId)?.epoch;
      tombstones.delete(clientId);
      const epoch = last === undefined ? nowMs : Math.max(last + 1, nowMs);
      const previousOwner = stored?.disconnectedAtMs === undefined ? stored?.owner : undefined;
      const resumed = resumable(stored, options);
      const will = wills.get(clientId);
      wills.delete(clientId);
      // the epoch is taken before anything is read back, as in Redis: an unreadable record fails after it
      const session = resumed === undefined || stored === undefined ? emptySession() : stored;
      Object.assign(session, { epoch, owner: options.proxyId, protocolVersion: options.protocolVersion });
      Object.assign(session, { expiryIntervalSeconds: options.expiryIntervalSeconds, disconnectedAtMs: undefined, expiresAtMs: undefined, dropAtMs: undefined });
      sessions.set(clientId, session);
      this.data.own(clientId, options.proxyId, previousOwner);
      return {
        epoch,
        ...(previousOwner === undefined ? {} : { previousOwner }),
        ...(will === undefined || resumed !== undefined ? {} : { endedWill: decodeWill(clientId, will.will) }),
        record: resumed === undefined ? undefined : decodeSession(clientId, resumed),
      };
    });
  }

  save(record: SessionRecord, epoch: number, nowMs: number): Promise<void> {
    if (record.expiryIntervalSeconds === 0) return this.delete(record.clientId, epoch);
    return this.attempt(() => {
      const session = this.fenced(record.clientId, epoch);
      this.data.own(record.clientId, undefined, session.owner);
      const never = record.expiryIntervalSeconds >= SESSION_NEVER_EXPIRES;
      const lifetimeMs = record.expiryIntervalSeconds * 1000;
      session.protocolVersion = record.protocolVersion;
      session.expiryIntervalSeconds = record.expiryIntervalSeconds;
      session.state = encodeState(record);
      session.disconnectedAtMs = nowMs;
      session.expiresAtMs = never ? undefined : nowMs + lifetimeMs;
      session.dropAtMs = never ? undefined : this.clock.now() + lifetimeMs + this.graceMs;
      session.subscriptions.clear();
      for (const s of record.subscriptions) session.subscriptions.set(s.topicFilter, encodeSubscription(s));
      session.cursors.clear();
      for (const [shardId, sequence] of Object.entries(record.cursors)) session.cursors.set(shardId, sequence);
      if (!never) this.enqueue('session', record.clientId, nowMs + lifetimeMs);
    });
  }

  delete(clientId: string, epoch: number): Promise<void> {
    return this.attempt(() => {
      this.data.own(clientId, undefined, this.fenced(clientId, epoch).owner);
      this.tombstone(clientId, epoch);
    });
  }

  updateSubscriptions(clientId: string, epoch: number, change: SubscriptionChange): Promise<void> {
    return this.attempt(() => {
      const { subscriptions } = this.fenced(clientId, epoch);
      for (const s of change.put ?? []) subscriptions.set(s.topicFilter, encodeSubscription(s));
      for (const filter of change.remove ?? []) subscriptions.delete(filter);
    });
  }

  updateCursors(clientId: string, epoch: number, cursors: SessionCursors): Promise<void> {
    return this.attempt(() => {
      const session = this.fenced(clientId, epoch);
      for (const [shardId, sequence] of Object.entries(cursors)) session.cursors.set(shardId, sequence);
    });
  }

  scheduleWill(clientId: string, epoch: number, dueMs: number, will: Will, nowMs: number): Promise<void> {
    return this.attempt(() => {
      this.fenced(clientId, epoch);
      const dropAtMs = this.clock.now() + Math.max(0, dueMs - nowMs) + this.graceMs;
      this.data.wills.set(clientId, { epoch, dueMs, will: encodeWill(will), dropAtMs });
      this.enqueue('will', clientId, dueMs);
    });
  }

  armWill(clientId: string, epoch: number, will: Will, delayMs: number): Promise<void> {
    return this.attempt(() => {
      this.fenced(clientId, epoch);
      const armed = { epoch, dueMs: Number.POSITIVE_INFINITY, armedDelayMs: delayMs, will: encodeWill(will), dropAtMs: Number.POSITIVE_INFINITY };
      this.data.wills.set(clientId, armed);
    });
  }

  cancelWill(clientId: string, epoch: number): Promise<void> {
    return this.attempt(() => {
      this.fenced(clientId, epoch);
      this.data.wills.delete(clientId);
      this.data.index.delete(`will|${clientId}`);
    });
  }

  claimDue(nowMs: number, limit: number): Promise<DueEntry[]> {
    return this.attempt(() => {
      const due = [...this.data.index.entries()].filter(([, entry]) => entry.dueMs <= nowMs);
      due.sort(([, a], [, b]) => a.dueMs - b.dueMs);
      const claimed = due.slice(0, Math.max(0, limit));
      for (const [member] of claimed) this.data.index.delete(member);
      return claimed.flatMap(([, entry]) => {
        const settled = entry.kind === 'will' ? this.takeWill(entry.clientId, nowMs) : this.expireSession(entry.clientId, nowMs);
        return settled === undefined ? [] : [settled];
      });
    });
  }

  heartbeat(proxyId: string, nowMs: number, livenessMs: number): Promise<Heartbeat> {
    return this.attempt(() => {
      const { proxies } = this.data;
      const known = proxies.has(proxyId);
      proxies.set(proxyId, nowMs);
      const dead = [...proxies].filter(([, lastSeenMs]) => lastSeenMs < nowMs - livenessMs).map(([id, lastSeenMs]) => ({ proxyId: id, lastSeenMs }));
      for (const { proxyId: id } of dead) proxies.delete(id);
      return { known, dead };
    });
  }

  orphanSessions(proxyId: string, nowMs: number, limit: number): Promise<number> {
    return this.attempt(() => {
      const owned = this.data.owners.get(proxyId);
      const clientIds = [...(owned ?? [])].slice(0, Math.max(0, limit));
      for (const clientId of clientIds) {
        owned?.delete(clientId);
        this.orphan(clientId, proxyId, nowMs);
      }
      return clientIds.length;
    });
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }

  /** As the Redis ORPHAN script: a session still connected through the dead `proxyId` is disconnected now. */
  private orphan(clientId: string, proxyId: string, nowMs: number): void {
    const session = this.data.sessions.get(clientId);
    if (session?.owner !== proxyId || session.disconnectedAtMs !== undefined) return;
    const will = this.data.wills.get(clientId);
    if (will?.epoch === session.epoch && will.armedDelayMs !== undefined) {
      const dueMs = nowMs + will.armedDelayMs;
      this.data.wills.set(clientId, { epoch: will.epoch, will: will.will, dueMs, dropAtMs: this.clock.now() + will.armedDelayMs + this.graceMs });
      this.enqueue('will', clientId, dueMs);
    }
    const seconds = session.expiryIntervalSeconds;
    if (seconds === 0) {
      this.tombstone(clientId, session.epoch);
      return;
    }
    session.disconnectedAtMs = nowMs;
    if (seconds >= SESSION_NEVER_EXPIRES) return;
    session.expiresAtMs = nowMs + seconds * 1000;
    session.dropAtMs = this.clock.now() + seconds * 1000 + this.graceMs;
    this.enqueue('session', clientId, session.expiresAtMs);
  }

  private takeWill(clientId: string, nowMs: number): DueEntry | undefined {
    const pending = this.data.wills.get(clientId);
    if (pending?.armedDelayMs !== undefined) return undefined; // armed: due only once its proxy died
    if (pending === undefined) return undefined;
    const current = this.data.sessions.get(clientId);
    if (current !== undefined && current.epoch !== pending.epoch) {
      this.data.wills.delete(clientId);
      return undefined;
    }
    if (pending.dueMs > nowMs) {
      this.enqueue('will', clientId, pending.dueMs); // moved later since it was queued
      return undefined;
    }
    this.data.wills.delete(clientId);
    const { epoch, dueMs } = pending;
    try {
      return { kind: 'will', clientId, epoch, dueMs, will: decodeWill(clientId, pending.will) };
    } catch (err: unknown) {
      if (err instanceof CorruptSessionError) return { kind: 'corrupt', clientId, dueMs, error: err };
      throw err;
    }
  }

  private expireSession(clientId: string, nowMs: number): DueEntry | undefined {
    const session = this.data.sessions.get(clientId);
    if (session?.disconnectedAtMs === undefined || session.expiresAtMs === undefined) return undefined;
    if (session.expiresAtMs > nowMs) {
      this.enqueue('session', clientId, session.expiresAtMs); // saved again since it was queued
      return undefined;
    }
    this.tombstone(clientId, session.epoch);
    return { kind: 'session-expired', clientId, epoch: session.epoch, dueMs: session.expiresAtMs };
  }

  private tombstone(clientId: string, epoch: number): void {
    this.data.sessions.delete(clientId);
    this.data.tombstones.set(clientId, { epoch, dropAtMs: this.clock.now() + this.tombstoneMs });
  }

  private enqueue(kind: 'will' | 'session', clientId: string, dueMs: number): void {
    this.data.index.set(`${kind}|${clientId}`, { kind, clientId, dueMs });
  }

  private fenced(clientId: string, epoch: number): MemorySession {
    const session = this.data.sessions.get(clientId);
    if (session?.epoch !== epoch) throw new StaleSessionError(clientId, epoch, session?.epoch);
    return session;
  }

  /** Runs `body` now and settles as an async store would: its errors become rejections. */
  private attempt<T>(body: () => T): Promise<T> {
    try {
      return Promise.resolve(body());
    } catch (err: unknown) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Forgets what Redis would have let expire by now (by the store's clock, as Redis by the server's). */
  private sweep(): void {
    const now = this.clock.now();
    for (const [clientId, session] of this.data.sessions) {
      if (session.dropAtMs !== undefined && session.dropAtMs <= now) this.data.sessions.delete(clientId);
    }
    for (const [clientId, will] of this.data.wills) if (will.dropAtMs <= now) this.data.wills.delete(clientId);
    for (const [clientId, tomb] of this.data.tombstones) if (tomb.dropAtMs <= now) this.data.tombstones.delete(clientId);
  }
}

import type { Clock } from '../clock.js';
import type { Will } from '../protocol/will.js';
import { decodeSession, decodeWill, encodeState, encodeSubscription, encodeWill, type RawSession } from './session-codec.js';
import { CorruptSessionError, StaleSessionError } from './session-errors.js';
import {
  SESSION_NEVER_EXPIRES,
  type DueEntry,
  type OpenedSession,
  type OpenOptions,
  type SessionCursors,
  type SessionRecord,
  type SessionStore,
  type SubscriptionChange,
} from './session-store.js';

/** One stored session, in the strings the Redis store keeps (the same codec reads both back). */
export interface MemorySession {
  epoch: number;
  owner: string;
  protocolVersion: number;
  expiryIntervalSeconds: number;
  state: string | undefined;
  readonly subscriptions: Map<string, string>;
  readonly cursors: Map<string, number>;
  disconnectedAtMs: number | undefined;
  expiresAtMs: number | undefined;
  /** When the sweeper forgets it (the Redis TTL): undefined while connected or never expiring. */
  dropAtMs: number | undefined;
}

/** A pending delayed will. */
export interface MemoryWill {
  readonly epoch: number;
  readonly dueMs: number;
  readonly will: string;
  readonly dropAtMs: number;
}

/** An expiry index entry; at most one per kind and client id. */
export interface MemoryDue {
  readonly kind: 'will' | 'session';
  readonly clientId: string;
  readonly dueMs: number;
}

/** A copy of what `open` resumes: the stored session unless clean start, not persistent, or expired by `nowMs`. */
function resumable(stored: MemorySession | undefined, options: OpenOptions): RawSession | undefined {
  if (options.cleanStart || stored === undefined || stored.expiryIntervalSeconds === 0) return undefined;
  if (stored.expiresAtMs !== undefined && stored.expiresAtMs <= options.nowMs) return undefined;
  return { ...stored, subscriptions: [...stored.subscriptions], cursors: [...stored.cursors] };
}

function emptySession(): MemorySession {
  return {
    epoch: 0,
    owner: '',
    protocolVersion: 0,
    expiryIntervalSeconds: 0,
    state: undefined,
    subscriptions: new Map(),
    cursors: new Map(),
    disconnectedAtMs: undefined,
    expiresAtMs: undefined,
    dropAtMs: undefined,
  };
}

/**
 * What the memory store keeps: the analogue of the Redis server. Several stores may share one (tests play several
 * proxies against it); tests may also reach in, e.g. to make a record unreadable.
 */
export class MemorySessionData {
  readonly sessions = new Map<string, MemorySession>();
  readonly wills = new Map<string, MemoryWill>();
  /** `<kind>|<clientId>` → entry */
  readonly index = new Map<string, MemoryDue>();
  /** The epochs of deleted and expired sessions, remembered for a while (as the Redis store's tombstones). */
  readonly tombstones = new Map<string, { readonly epoch: number; readonly dropAtMs: number }>();
}

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
      this.fenced(clientId, epoch);
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

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }

  private takeWill(clientId: string, nowMs: number): DueEntry | undefined {
    const pending = this.data.wills.get(clientId);
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

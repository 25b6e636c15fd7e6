// What the memory session store keeps (the analogue of the Redis server's keys), and the pure helpers over it.
import type { OpenOptions } from './session-store.js';
import type { RawSession } from './session-codec.js';

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

/** A pending delayed will; while its connection is up, armed: `dueMs` Infinity and the delay it will get. */
export interface MemoryWill {
  readonly epoch: number;
  readonly dueMs: number;
  readonly armedDelayMs?: number;
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
export function resumable(stored: MemorySession | undefined, options: OpenOptions): RawSession | undefined {
  if (options.cleanStart || stored === undefined || stored.expiryIntervalSeconds === 0) return undefined;
  if (stored.expiresAtMs !== undefined && stored.expiresAtMs <= options.nowMs) return undefined;
  return { ...stored, subscriptions: [...stored.subscriptions], cursors: [...stored.cursors] };
}

export function emptySession(): MemorySession {
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
  /** proxy id → the client ids whose sessions it holds connected (as the Redis owner sets). */
  readonly owners = new Map<string, Set<string>>();
  /** proxy id → its last heartbeat (ms), as the Redis proxy registry. */
  readonly proxies = new Map<string, number>();

  /** Records that `clientId` is connected through `proxyId`, or (undefined) through none. */
  own(clientId: string, proxyId: string | undefined, previous: string | undefined): void {
    if (previous !== undefined && previous !== proxyId) this.owners.get(previous)?.delete(clientId);
    if (proxyId === undefined) return;
    const owned = this.owners.get(proxyId) ?? new Set<string>();
    owned.add(clientId);
    this.owners.set(proxyId, owned);
  }
}

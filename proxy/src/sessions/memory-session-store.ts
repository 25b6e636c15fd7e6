import type { Clock } from '../clock.js';
import { SESSION_NEVER_EXPIRES, type SessionRecord, type SessionStore } from './session-store.js';

interface Stored {
  readonly record: SessionRecord;
  readonly expiresAtMs: number;
}

/** Sessions in this process's memory: for a single proxy and for tests. Expiry is checked on access and swept. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Stored>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: Clock,
    sweepIntervalMs = 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  open(clientId: string, cleanStart: boolean): Promise<SessionRecord | undefined> {
    const stored = this.sessions.get(clientId);
    this.sessions.delete(clientId);
    if (cleanStart || stored === undefined || stored.expiresAtMs <= this.clock.now()) return Promise.resolve(undefined);
    return Promise.resolve(stored.record);
  }

  save(record: SessionRecord): Promise<void> {
    const expiresAtMs =
      record.expiryIntervalSeconds >= SESSION_NEVER_EXPIRES
        ? Number.POSITIVE_INFINITY
        : this.clock.now() + record.expiryIntervalSeconds * 1000;
    this.sessions.set(record.clientId, { record, expiresAtMs });
    return Promise.resolve();
  }

  delete(clientId: string): Promise<void> {
    this.sessions.delete(clientId);
    return Promise.resolve();
  }

  count(): Promise<number> {
    this.sweep();
    return Promise.resolve(this.sessions.size);
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [clientId, stored] of this.sessions) {
      if (stored.expiresAtMs <= now) this.sessions.delete(clientId);
    }
  }
}

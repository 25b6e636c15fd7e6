// Each proxy's owner set (redis-keys.ts `ownerKey`: the client ids whose sessions it holds connected) changes
// twice per connection: SADD at CONNECT, SREM when the session is saved or deleted. Sent one by one they were two
// of the four Redis commands of a CONNECT cycle, and each ioredis command costs the proxy CPU (docs/performance.md,
// "CONNECT path"). So they are coalesced:
//
// - Additions go out as one `SADD key id…` per set, on the next event-loop turn, or, while earlier SADDs are still
//   unanswered, as soon as they are (the way ioredis's auto-pipelining groups commands). Every caller waits for the
//   command that carries its id: CONNACK follows it.
// - Removals are held for `removeDelayMs` and go out as one `SREM key id…` per set; nobody waits for them, and a
//   failed one is forgotten. A member left behind is harmless: a dead proxy's set is only a list of candidates, and
//   the orphan script leaves alone any session that is closed or owned by another proxy.
// - Only the last change of an id counts: an addition cancels a held removal of the same id from the same set
//   (it has not been sent, so the id is still there), and a removal asked after an addition is sent after it
//   (held removals go out after the additions of their turn, and ioredis keeps one connection's order).

/** The two commands, as the store's Redis client offers them. */
export interface SetCommands {
  sadd(key: string, members: string[]): Promise<unknown>;
  srem(key: string, members: string[]): Promise<unknown>;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Additions to one set not sent yet, and who waits for them. */
interface Additions {
  readonly members: string[];
  readonly waiters: Waiter[];
}

/** How long removals are held by default (ms). */
export const DEFAULT_REMOVE_DELAY_MS = 100;

/** Changes to Redis sets, coalesced; see the module comment. */
export class OwnerSets {
  private additions = new Map<string, Additions>();
  private removals = new Map<string, Set<string>>();
  /** SADDs sent and not answered yet. */
  private inFlight = 0;
  private addScheduled = false;
  private removeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly commands: SetCommands,
    private readonly removeDelayMs = DEFAULT_REMOVE_DELAY_MS,
  ) {}

  /** Adds `member` to the set `key`; resolves once Redis has it. */
  add(key: string, member: string): Promise<void> {
    this.removals.get(key)?.delete(member);
    return new Promise<void>((resolve, reject) => {
      let pending = this.additions.get(key);
      if (pending === undefined) {
        pending = { members: [], waiters: [] };
        this.additions.set(key, pending);
      }
      pending.members.push(member);
      pending.waiters.push({ resolve, reject });
      if (!this.addScheduled && this.inFlight === 0) {
        this.addScheduled = true;
        setImmediate(() => this.sendAdditions());
      }
    });
  }

  /** Removes `member` from the set `key`, later and at most once; see the module comment. */
  remove(key: string, member: string): void {
    let held = this.removals.get(key);
    if (held === undefined) {
      held = new Set();
      this.removals.set(key, held);
    }
    held.add(member);
    if (this.removeTimer === undefined) {
      this.removeTimer = setTimeout(() => void this.flushRemovals(), this.removeDelayMs);
      this.removeTimer.unref();
    }
  }

  /** Sends what is held now (at close); resolves once the removals were answered. */
  async flush(): Promise<void> {
    this.sendAdditions();
    await this.flushRemovals();
  }

  private sendAdditions(): void {
    this.addScheduled = false;
    const additions = this.additions;
    if (additions.size === 0) return;
    this.additions = new Map();
    for (const [key, { members, waiters }] of additions) {
      this.inFlight++;
      const settle = (error?: unknown): void => {
        this.inFlight--;
        for (const waiter of waiters) {
          if (error === undefined) waiter.resolve();
          else waiter.reject(error);
        }
        // what was asked meanwhile goes out now, as one command per set
        if (this.inFlight === 0 && this.additions.size > 0 && !this.addScheduled) this.sendAdditions();
      };
      try {
        this.commands.sadd(key, members).then(() => settle(), (error: unknown) => settle(error ?? new Error('failed')));
      } catch (error) {
        settle(error ?? new Error('failed'));
      }
    }
  }

  private async flushRemovals(): Promise<void> {
    clearTimeout(this.removeTimer);
    this.removeTimer = undefined;
    // additions asked before these removals must reach Redis first, even with others in flight
    if (this.additions.size > 0) this.sendAdditions();
    const removals = this.removals;
    this.removals = new Map();
    const sent: Promise<unknown>[] = [];
    for (const [key, members] of removals) {
      if (members.size === 0) continue;
      try {
        sent.push(this.commands.srem(key, [...members]).catch(() => undefined));
      } catch {
        // a member left behind is harmless (module comment)
      }
    }
    await Promise.all(sent);
  }
}

// Each proxy's owner set (redis-keys.ts `ownerKey`: the client ids whose sessions it holds connected) changes
// twice per connection: SADD at CONNECT, SREM when the session is saved or deleted: two of the four Redis commands
// of a CONNECT cycle, whose ioredis work is about a quarter of a CONNECT's CPU (docs/performance.md, "Where the
// goals stand", CONNECT rate). The changes of one event-loop turn are sent together instead: consecutive changes of the same kind to the same
// set become ONE `SADD key id…` or `SREM key id…`, in the order they were asked for (an id added and removed in
// one turn ends removed), every caller waiting for the command that carries its id.

/** The two commands, as the store's Redis client offers them. */
export interface SetCommands {
  sadd(key: string, members: string[]): Promise<unknown>;
  srem(key: string, members: string[]): Promise<unknown>;
}

type Kind = 'sadd' | 'srem';

/** Consecutive changes of one kind to one set, and who waits for them. */
interface Run {
  readonly kind: Kind;
  readonly key: string;
  readonly members: string[];
  readonly waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/** Changes to Redis sets batched per event-loop turn; see the module comment. */
export class OwnerSets {
  private runs: Run[] = [];
  /** The last run of each key this turn: a change of the same kind joins it. */
  private readonly lastOf = new Map<string, Run>();
  private scheduled = false;

  constructor(private readonly commands: SetCommands) {}

  add(key: string, member: string): Promise<void> {
    return this.change('sadd', key, member);
  }

  remove(key: string, member: string): Promise<void> {
    return this.change('srem', key, member);
  }

  private change(kind: Kind, key: string, member: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let run = this.lastOf.get(key);
      if (run?.kind !== kind) {
        run = { kind, key, members: [], waiters: [] };
        this.runs.push(run);
        this.lastOf.set(key, run);
      }
      run.members.push(member);
      run.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends this turn's runs in order (ioredis keeps the order of one connection's commands). */
  private flush(): void {
    this.scheduled = false;
    const runs = this.runs;
    this.runs = [];
    this.lastOf.clear();
    for (const run of runs) {
      const settle = (error?: unknown): void => {
        for (const waiter of run.waiters) {
          if (error === undefined) waiter.resolve();
          else waiter.reject(error);
        }
      };
      try {
        this.commands[run.kind](run.key, run.members).then(() => settle(), (error: unknown) => settle(error ?? new Error('failed')));
      } catch (error) {
        settle(error ?? new Error('failed'));
      }
    }
  }
}

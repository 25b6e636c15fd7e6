// Kill / stop / start / restart of the fleet's processes by index: one set serves the proxies, one the shards.

function checkIndex(i: number, count: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`no ${what} ${i} in a fleet of ${count}`);
}

/** A process of the fleet as the fault helpers drive it (a proxy or a shard). */
interface FleetProcess {
  readonly exited: Promise<unknown>;
  kill(signal: NodeJS.Signals): void;
  stop(): Promise<unknown>;
}

/** What slotControls returns: the fault helpers of one kind of process. */
interface SlotControls {
  readonly kill: (i: number, signal?: NodeJS.Signals) => Promise<void>;
  readonly stop: (i: number) => Promise<void>;
  readonly start: (i: number) => Promise<void>;
  readonly restart: (i: number) => Promise<void>;
}

/** Kill / stop / start / restart of process `i` in `slots` (undefined while stopped); one set for proxies, one for shards. */
export function slotControls<T extends FleetProcess>(
  slots: (T | undefined)[],
  count: () => number,
  kind: string,
  launch: (i: number) => Promise<T>,
): SlotControls {
  const stop = async (i: number): Promise<void> => {
    checkIndex(i, count(), kind);
    const running = slots[i];
    slots[i] = undefined;
    await running?.stop();
  };
  const start = async (i: number): Promise<void> => {
    checkIndex(i, count(), kind);
    if (slots[i] === undefined) slots[i] = await launch(i);
  };
  return {
    kill: async (i, signal = 'SIGKILL') => {
      checkIndex(i, count(), kind);
      const running = slots[i];
      slots[i] = undefined;
      running?.kill(signal);
      await running?.exited;
    },
    stop,
    start,
    restart: async (i) => {
      await stop(i);
      await start(i);
    },
  };
}

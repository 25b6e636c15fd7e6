// The faults of `make chaos`. Each injects one failure into a running fleet (round `round` picks which proxy or
// shard), resolves once the fault has happened, and `restore` puts the fleet back as it was for the next round.
import type { Fleet } from '../fleet/fleet.js';
import { changeShardCount, finishShardChange } from '../fleet/shard-change.js';

export interface Fault {
  readonly name: string;
  /**
   * True when a subscriber may miss messages during this fault unless a reconnecting persistent session gets what
   * it missed (cursor-based offline replay): its proxy dies or drains, or its proxy's shard connection moves.
   */
  readonly needsReplay: boolean;
  /** Only meaningful on clustered shards (SHOAL_SHARD_REPLICAS=3). */
  readonly needsReplicas?: boolean;
  inject(fleet: Fleet, round: number): Promise<void>;
  restore(fleet: Fleet, round: number): Promise<void>;
}

const proxyOf = (fleet: Fleet, round: number): number => round % fleet.config.proxies;

/** SIGKILL one proxy (round-robin, so some rounds hit the subscriber's); restarted afterwards. */
const killProxy: Fault = {
  name: 'SIGKILL a proxy',
  needsReplay: true,
  inject: (fleet, round) => fleet.killProxy(proxyOf(fleet, round)),
  restore: (fleet, round) => fleet.startProxy(proxyOf(fleet, round)),
};

/** SIGKILL the member leading SHOAL_MSGS on one shard of a clustered fleet; restarted afterwards. */
function killStreamLeader(): Fault {
  const killed = new Map<number, { shard: number; member: number }>();
  return {
    name: 'kill the stream leader of an R3 shard',
    needsReplay: true,
    needsReplicas: true,
    inject: async (fleet, round) => {
      const shard = round % fleet.shardCount();
      const group = fleet.shardGroup(shard);
      const member = await group?.streamLeader('SHOAL_MSGS');
      if (group === undefined || member === undefined) throw new Error(`shard ${shard} has no SHOAL_MSGS leader`);
      killed.set(round, { shard, member });
      await group.killReplica(member);
    },
    restore: async (fleet, round) => {
      const what = killed.get(round);
      if (what !== undefined) await fleet.shardGroup(what.shard)?.startReplica(what.member);
    },
  };
}

/** Stop Redis (SIGTERM, AOF on disk) and start it again. */
const restartRedis: Fault = {
  name: 'restart Redis',
  needsReplay: false,
  inject: (fleet) => fleet.restartRedis(),
  restore: () => Promise.resolve(),
};

/** SIGTERM (drain) and start every proxy in turn. */
const rollingRestart: Fault = {
  name: 'rolling restart of all proxies',
  needsReplay: true,
  inject: async (fleet) => {
    for (let i = 0; i < fleet.config.proxies; i++) await fleet.restartProxy(i);
  },
  restore: () => Promise.resolve(),
};

/** Add a shard with the two-step ring transition (retained copy included); the shard is removed the same way afterwards. */
function scaleOut(transitionMs: number): Fault {
  return {
    name: 'shard scale-out under load',
    needsReplay: false,
    inject: async (fleet) => {
      await changeShardCount(fleet, fleet.shardCount() + 1, { transitionMs });
    },
    restore: async (fleet) => {
      await waitTransitionEnd(fleet);
      await finishShardChange(fleet);
      await changeShardCount(fleet, fleet.shardCount() - 1, { transitionMs });
      await waitTransitionEnd(fleet);
      await finishShardChange(fleet);
    },
  };
}

/** Resolves once the `transitionUntil` of the ring in force has passed. */
async function waitTransitionEnd(fleet: Fleet): Promise<void> {
  const until = fleet.ring().transitionUntil;
  const ms = until === undefined ? 0 : Date.parse(until) - Date.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms + 50));
}

/** Every fault, in the order `make chaos` runs them. */
export function allFaults(options: { transitionMs: number }): readonly Fault[] {
  return [killProxy, killStreamLeader(), restartRedis, rollingRestart, scaleOut(options.transitionMs)];
}

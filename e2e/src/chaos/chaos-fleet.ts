// The fleet the chaos runs use (`make chaos` and its CI version): 3 proxies, 2 clustered shards (3 nats-servers
// each, R3 streams) and Redis sessions, on free ports below the ephemeral range, with room for one more shard.
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { freeFleetPorts } from '../fleet/free-ports.js';

/** Proxies drain at 500 clients/s with a 10 s bound, so a rolling restart stays short. */
export async function startChaosFleet(stateDir: string): Promise<Fleet> {
  // 9 nats-servers per port block: 2 shards × 3 now, 3 × 3 while the scale-out fault runs
  const config = { proxies: 3, shards: 2, shardReplicas: 3 as const, ...(await freeFleetPorts(9)), stateDir };
  return startFleet(config, { proxyEnv: { SHOAL_LOG_LEVEL: 'warn' }, proxyConfig: { drain: { disconnectRatePerSecond: 500, timeoutMs: 10_000 } } });
}

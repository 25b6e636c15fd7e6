// One shard of the local fleet: a single nats-server, or (shardReplicas 3) three forming a JetStream cluster
// whose streams the proxies create with 3 replicas. Replica `r` of shard `i` listens on base + R·i + r of the
// NATS, monitoring and route port blocks (R = replicas), so a one-server shard keeps `SHOAL_NATS_PORT + i`.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet } from '../processes/child-process.js';
import { startNatsServer, type RunningNatsServer } from '../processes/nats-server.js';
import type { FleetConfig } from './fleet-config.js';

/** A shard of the fleet as the fault helpers drive it. */
export interface ShardGroup {
  readonly id: string;
  /** Every member's client URL (the ring lists them all). */
  readonly urls: readonly string[];
  /** The members; undefined while one is stopped. */
  readonly servers: readonly (RunningNatsServer | undefined)[];
  /** Settles when every member has exited. */
  readonly exited: Promise<unknown>;
  kill(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL) to member `r` and waits for its exit. */
  killReplica(r: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts member `r` again on its ports and store, and waits until the cluster is healthy. */
  startReplica(r: number): Promise<void>;
  /** The running member leading `stream` (JetStream's view, from a running member's monitor), if one is known. */
  streamLeader(stream: string): Promise<number | undefined>;
}

/** Ports of member `r` of shard `i`. */
export function shardMemberPorts(config: FleetConfig, i: number, r: number): { client: number; http: number; route: number } {
  const replicas = config.shardReplicas ?? 1;
  const k = i * replicas + r;
  return { client: config.natsPort + k, http: config.natsHttpPort + k, route: (config.natsClusterPort ?? 6222) + k };
}

/** Client URLs of every member of shard `i`. */
export function shardUrls(config: FleetConfig, i: number): string[] {
  return Array.from({ length: config.shardReplicas ?? 1 }, (_, r) => `nats://127.0.0.1:${shardMemberPorts(config, i, r).client}`);
}

const memberName = (config: FleetConfig, i: number, r: number): string => ((config.shardReplicas ?? 1) === 1 ? `shard-${i}` : `shard-${i}-${r}`);

/** Removes the JetStream stores of shard `i` (a shard that left the ring and may come back empty). */
export function removeShardStores(config: FleetConfig, i: number): void {
  for (let r = 0; r < (config.shardReplicas ?? 1); r++) rmSync(join(config.stateDir, memberName(config, i, r)), { recursive: true, force: true });
}

/** Polls `/healthz` of every running member until all answer 200 (the cluster has a JetStream meta leader). */
async function clusterHealthy(servers: readonly (RunningNatsServer | undefined)[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(servers.map((s) => (s === undefined ? Promise.resolve(200) : httpGet(`${s.monitorUrl}/healthz`, 1_000).then((r) => r.status, () => 0))));
    if (statuses.every((status) => status === 200)) return;
    if (Date.now() > until) throw new Error(`JetStream cluster not healthy within ${timeoutMs} ms (statuses ${statuses.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface JszStreams {
  readonly account_details?: { readonly stream_detail?: { readonly name: string; readonly cluster?: { readonly leader?: string } }[] }[];
}

function stopAll(servers: readonly (RunningNatsServer | undefined)[]): Promise<unknown> {
  return Promise.all(servers.flatMap((s) => (s === undefined ? [] : [s.stop()])));
}

/** Starts shard `i` (1 or 3 members) and resolves once it serves JetStream. */
export async function startShardGroup(config: FleetConfig, i: number): Promise<ShardGroup> {
  const replicas = config.shardReplicas ?? 1;
  const logs = join(config.stateDir, 'logs');
  const routePorts = Array.from({ length: replicas }, (_, r) => shardMemberPorts(config, i, r).route);
  const launch = (r: number): Promise<RunningNatsServer> => {
    const ports = shardMemberPorts(config, i, r);
    const name = memberName(config, i, r);
    return startNatsServer({
      port: ports.client,
      httpPort: ports.http,
      storeDir: join(config.stateDir, name),
      serverName: name,
      logFile: join(logs, `${name}.log`),
      cpus: config.shardCpus ?? 1,
      ...(replicas === 1 ? {} : { cluster: { name: `shard-${i}`, port: ports.route, routePorts } }),
    });
  };
  const started = await Promise.allSettled(Array.from({ length: replicas }, (_, r) => launch(r)));
  const servers: (RunningNatsServer | undefined)[] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await stopAll(servers);
    throw failed.reason;
  }
  if (replicas > 1) await clusterHealthy(servers, 30_000);
  const killReplica = async (r: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const running = servers[r];
    servers[r] = undefined;
    running?.kill(signal);
    await running?.exited;
  };
  return {
    id: `shard-${i}`,
    urls: shardUrls(config, i),
    servers,
    get exited() {
      return Promise.all(servers.flatMap((s) => (s === undefined ? [] : [s.exited])));
    },
    kill: (signal) => {
      for (const s of servers) s?.kill(signal);
    },
    stop: async () => {
      const running = servers.splice(0, servers.length, ...servers.map(() => undefined));
      await stopAll(running);
    },
    killReplica,
    startReplica: async (r) => {
      servers[r] ??= await launch(r);
      if (replicas > 1) await clusterHealthy(servers, 30_000);
    },
    streamLeader: async (stream) => {
      for (const server of servers) {
        if (server === undefined) continue;
        const jsz = JSON.parse((await httpGet(`${server.monitorUrl}/jsz?accounts=true&streams=true`)).body) as JszStreams;
        const detail = jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((d) => d.name === stream);
        const leader = detail?.cluster?.leader;
        if (leader !== undefined) {
          const r = Array.from({ length: replicas }, (_, k) => memberName(config, i, k)).indexOf(leader);
          // a member that was just killed is still named leader by the others until they elect a new one
          return r >= 0 && servers[r] !== undefined ? r : undefined;
        }
      }
      return undefined;
    },
  };
}

// The local fleet: one Redis, S JetStream shards (one nats-server each), the ring file the operator would
// publish, and P proxies (`node proxy/dist/main.js`), all on 127.0.0.1 under one state directory. Used by
// `make up` and the data-plane e2e tests, which also use the fault helpers (kill or restart a proxy, a
// shard or Redis) and rewriteRing().
//
// State directory layout (reused by the next start):
//   ring.json  proxy-<i>.json  redis/  shard-<i>/ (JetStream store)  shard-<i>.conf  logs/*.log
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpReady, startProcess } from '../processes/child-process.js';
import type { SupervisedProcess } from '../processes/child-process.js';
import type { RunningNatsServer } from '../processes/nats-server.js';
import { startRedisServer } from '../processes/redis-server.js';
import type { RunningRedisServer } from '../processes/redis-server.js';
import type { FleetConfig } from './fleet-config.js';
import { assertPortsFree } from './free-ports.js';
import { ensureRing, writeFileAtomic, type RingFileDocument } from './ring-file.js';
import { removeShardStores, startShardGroup, type ShardGroup } from './shard-group.js';
import { slotControls } from './slot-controls.js';

export { buildFleetRing, writeFileAtomic, type RingFileDocument, type RingShard } from './ring-file.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** `<repo>/proxy/dist/main.js`, built by `make build`. */
export const DEFAULT_PROXY_MAIN = join(REPO_ROOT, 'proxy', 'dist', 'main.js');

export interface FleetOptions {
  /** The proxy entry point. @default DEFAULT_PROXY_MAIN */
  readonly proxyMain?: string;
  /** Time each proxy has to answer 200 on `/readyz`. @default 30000 */
  readonly proxyReadyTimeoutMs?: number;
  /** Extra environment for the proxies (e.g. LOG_LEVEL); the parent's environment is passed too. */
  readonly proxyEnv?: Readonly<Record<string, string>>;
  /** Top-level sections added to every proxy's configuration document (e.g. `drain`, `connectAdmission`). */
  readonly proxyConfig?: Readonly<Record<string, unknown>>;
  /** Authentication for every proxy: the `auth.chains` section and the chain the MQTT and WebSocket listeners name. */
  readonly proxyAuth?: ProxyAuthOption;
}

export interface ProxyAuthOption {
  readonly chains: Readonly<Record<string, unknown>>;
  readonly listenerChain: string;
}

/** Endpoints of proxy `i` (fixed by the config whether or not the proxy runs). */
export interface ProxyEndpoints {
  readonly id: string;
  /** `mqtt://127.0.0.1:<SHOAL_MQTT_PORT + i>` */
  readonly mqttUrl: string;
  /** `ws://127.0.0.1:<SHOAL_WS_PORT + i>/mqtt` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<SHOAL_METRICS_PORT + i>` (`/metrics`, `/healthz`, `/readyz`) */
  readonly httpUrl: string;
  readonly logFile: string;
}

/** A running local fleet. Indices are 0-based; every fault helper resolves once the change is done. */
export interface Fleet {
  readonly config: FleetConfig;
  readonly ringFile: string;
  readonly proxyEndpoints: readonly ProxyEndpoints[];
  /** The running Redis, or undefined while stopped by stopRedis(). */
  redis(): RunningRedisServer | undefined;
  /** The running shard `i` (its first member when clustered), or undefined while stopped. */
  shard(i: number): RunningNatsServer | undefined;
  /** Every member of shard `i` (one, or three when clustered), or undefined while stopped. */
  shardGroup(i: number): ShardGroup | undefined;
  /** Shards running now (`config.shards`, plus those added, minus those removed). */
  shardCount(): number;
  /** Starts shard `shardCount()` (it is not in the ring until the caller puts it there). */
  addShard(): Promise<ShardGroup>;
  /** Stops the last shard and deletes its stores (after the ring no longer names it). */
  removeLastShard(): Promise<void>;
  /** The running proxy `i`, or undefined while stopped. */
  proxy(i: number): SupervisedProcess | undefined;
  /** The ring currently in `ring.json`. */
  ring(): RingFileDocument;
  /** Writes `ring.json` atomically (temporary file + rename); proxies pick it up without a restart. */
  rewriteRing(doc: RingFileDocument): void;
  /** Sends `signal` (default SIGKILL: a crash) to proxy `i` and waits until it has exited. */
  killProxy(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful drain), SIGKILL after a bound. */
  stopProxy(i: number): Promise<void>;
  /** Starts proxy `i` again (same ports and config) and waits for `/readyz`. */
  startProxy(i: number): Promise<void>;
  restartProxy(i: number): Promise<void>;
  killShard(i: number, signal?: NodeJS.Signals): Promise<void>;
  stopShard(i: number): Promise<void>;
  /** Starts shard `i` again on the same ports and JetStream store. */
  startShard(i: number): Promise<void>;
  restartShard(i: number): Promise<void>;
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
  restartRedis(): Promise<void>;
  /** Stops the proxies first (they drain), then the shards and Redis. Safe to call twice. */
  stop(): Promise<void>;
}

/** The configuration document of proxy `i` (validated by the proxy against proxy/src/config/schema.ts). */
export function buildProxyConfig(config: FleetConfig, i: number, ringFile: string, auth?: ProxyAuthOption): Record<string, unknown> {
  const chain = auth === undefined ? {} : { auth: auth.listenerChain };
  return {
    ...(auth === undefined ? {} : { auth: { chains: auth.chains } }),
    listeners: {
      mqtt: { host: '127.0.0.1', port: config.mqttPort + i, ...chain },
      websocket: { host: '127.0.0.1', port: config.wsPort + i, path: '/mqtt', ...chain },
    },
    http: { host: '127.0.0.1', port: config.metricsPort + i },
    ring: { file: ringFile },
    sessions: { store: 'redis', url: `redis://127.0.0.1:${config.redisPort}` },
    ...(config.shardReplicas === 3 ? { nats: { streamReplicas: 3 } } : {}),
  };
}

/** Awaits every start; if one fails, stops those that started and rethrows the first failure. */
async function startAll<T extends { stop(): Promise<unknown> }>(starts: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(starts);
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed === undefined) return started;
  await Promise.all(started.map((s) => s.stop()));
  throw failed.reason;
}

/** Starts Redis, the shards, the ring file and the proxies, in that order; resolves when all are ready. */
export async function startFleet(config: FleetConfig, options: FleetOptions = {}): Promise<Fleet> {
  const state = config.stateDir;
  const logs = join(state, 'logs');
  const ringFile = join(state, 'ring.json');
  const proxyMain = options.proxyMain ?? DEFAULT_PROXY_MAIN;
  if (!existsSync(proxyMain)) throw new Error(`cannot start the fleet: ${proxyMain} is missing (run make build)`);
  mkdirSync(logs, { recursive: true });
  await assertPortsFree(config);

  const proxyEndpoints: ProxyEndpoints[] = Array.from({ length: config.proxies }, (_, i) => ({
    id: `proxy-${i}`,
    mqttUrl: `mqtt://127.0.0.1:${config.mqttPort + i}`,
    wsUrl: `ws://127.0.0.1:${config.wsPort + i}/mqtt`,
    httpUrl: `http://127.0.0.1:${config.metricsPort + i}`,
    logFile: join(logs, `proxy-${i}.log`),
  }));

  const launchRedis = (): Promise<RunningRedisServer> =>
    startRedisServer({ port: config.redisPort, dir: join(state, 'redis'), logFile: join(logs, 'redis.log'), persistence: 'aof' });
  const launchShard = (i: number): Promise<ShardGroup> => startShardGroup(config, i);
  const launchProxy = (i: number): Promise<SupervisedProcess> => {
    const endpoints = proxyEndpoints[i];
    if (endpoints === undefined) throw new RangeError(`no proxy ${i} in a fleet of ${config.proxies}`);
    const configFile = join(state, `${endpoints.id}.json`);
    writeFileAtomic(configFile, `${JSON.stringify({ ...buildProxyConfig(config, i, ringFile, options.proxyAuth), ...options.proxyConfig }, null, 2)}\n`);
    return startProcess({
      name: endpoints.id,
      command: process.execPath,
      args: ['--enable-source-maps', proxyMain],
      env: { ...process.env, ...options.proxyEnv, SHOAL_PROXY_CONFIG: configFile, SHOAL_PROXY_ID: endpoints.id },
      logFile: endpoints.logFile,
      ready: httpReady(`${endpoints.httpUrl}/readyz`),
      readyTimeoutMs: options.proxyReadyTimeoutMs ?? 30_000,
      stopTimeoutMs: 15_000,
    });
  };

  const [redis] = await startAll([launchRedis()]);
  let shards: ShardGroup[];
  try {
    shards = await startAll(Array.from({ length: config.shards }, (_, i) => launchShard(i)));
    ensureRing(config, ringFile);
  } catch (err: unknown) {
    await redis?.stop();
    throw err;
  }
  let proxies: SupervisedProcess[];
  try {
    proxies = await startAll(Array.from({ length: config.proxies }, (_, i) => launchProxy(i)));
  } catch (err: unknown) {
    await Promise.all(shards.map((s) => s.stop()));
    await redis?.stop();
    throw err;
  }
  return assembleFleet({ config, ringFile, proxyEndpoints, redis, shards, proxies, launchRedis, launchShard, launchProxy });
}

interface FleetParts {
  readonly config: FleetConfig;
  readonly ringFile: string;
  readonly proxyEndpoints: readonly ProxyEndpoints[];
  redis: RunningRedisServer | undefined;
  readonly shards: (ShardGroup | undefined)[];
  readonly proxies: (SupervisedProcess | undefined)[];
  readonly launchRedis: () => Promise<RunningRedisServer>;
  readonly launchShard: (i: number) => Promise<ShardGroup>;
  readonly launchProxy: (i: number) => Promise<SupervisedProcess>;
}

/** Grows or shrinks the shard slots at run time (scale-out / scale-in). */
function shardScaling(parts: FleetParts): Pick<Fleet, 'addShard' | 'removeLastShard'> {
  const { shards } = parts;
  return {
    addShard: async () => {
      const group = await parts.launchShard(shards.length);
      shards.push(group);
      return group;
    },
    removeLastShard: async () => {
      if (shards.length <= 1) throw new RangeError('a fleet keeps at least one shard');
      await shards.pop()?.stop();
      removeShardStores(parts.config, shards.length);
    },
  };
}

function assembleFleet(parts: FleetParts): Fleet {
  const { config, ringFile, shards, proxies } = parts;
  const proxyControls = slotControls(proxies, () => config.proxies, 'proxy', parts.launchProxy);
  const shardControls = slotControls(shards, () => shards.length, 'shard', parts.launchShard);
  const stopRedis = async (): Promise<void> => {
    const redis = parts.redis;
    parts.redis = undefined;
    await redis?.stop();
  };
  const startRedis = async (): Promise<void> => {
    parts.redis ??= await parts.launchRedis();
  };
  let stopping: Promise<void> | undefined;
  return {
    config,
    ringFile,
    proxyEndpoints: parts.proxyEndpoints,
    redis: () => parts.redis,
    shard: (i) => shards[i]?.servers[0],
    shardGroup: (i) => shards[i],
    shardCount: () => shards.length,
    ...shardScaling(parts),
    proxy: (i) => proxies[i],
    ring: () => JSON.parse(readFileSync(ringFile, 'utf8')) as RingFileDocument,
    rewriteRing: (doc) => {
      writeFileAtomic(ringFile, `${JSON.stringify(doc, null, 2)}\n`);
    },
    killProxy: proxyControls.kill,
    stopProxy: proxyControls.stop,
    startProxy: proxyControls.start,
    restartProxy: proxyControls.restart,
    killShard: shardControls.kill,
    stopShard: shardControls.stop,
    startShard: shardControls.start,
    restartShard: shardControls.restart,
    stopRedis,
    startRedis,
    restartRedis: async () => {
      await stopRedis();
      await startRedis();
    },
    stop: () => {
      stopping ??= (async () => {
        await Promise.all(proxies.map((_, i) => proxyControls.stop(i)));
        await Promise.all(shards.map((_, i) => shardControls.stop(i)));
        await stopRedis();
      })();
      return stopping;
    },
  };
}

// Settings of the local fleet (`make up`, the data-plane e2e tests), read from the environment once and
// validated with zod. The names and defaults are a contract: tests and tools outside the project use them.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** An optional whole-number variable: `fallback` when unset, otherwise `min`..`max`. */
function envInt(name: string, fallback: number, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return fallback;
      const trimmed = text.trim();
      const value = Number(trimmed);
      if (!/^\d+$/.test(trimmed) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max}, got "${text}"` });
        return z.NEVER;
      }
      return value;
    });
}

const EnvCount = (name: string, fallback: number): ReturnType<typeof envInt> => envInt(name, fallback, 1, 64);
const EnvPort = (name: string, fallback: number): ReturnType<typeof envInt> => envInt(name, fallback, 1, 65_535);

/** The fleet environment: variable names and defaults (README.md, issue 2). Empty values count as unset. */
const FleetEnv = z.object({
  SHOAL_PROXIES: EnvCount('SHOAL_PROXIES', 2),
  SHOAL_SHARDS: EnvCount('SHOAL_SHARDS', 3),
  SHOAL_MQTT_PORT: EnvPort('SHOAL_MQTT_PORT', 1883),
  SHOAL_WS_PORT: EnvPort('SHOAL_WS_PORT', 8083),
  SHOAL_METRICS_PORT: EnvPort('SHOAL_METRICS_PORT', 9100),
  SHOAL_NATS_PORT: EnvPort('SHOAL_NATS_PORT', 4222),
  SHOAL_NATS_HTTP_PORT: EnvPort('SHOAL_NATS_HTTP_PORT', 8222),
  SHOAL_REDIS_PORT: EnvPort('SHOAL_REDIS_PORT', 6379),
  SHOAL_SHARD_REPLICAS: envInt('SHOAL_SHARD_REPLICAS', 1, 1, 3).refine((n) => n !== 2, 'SHOAL_SHARD_REPLICAS must be 1 or 3'),
  SHOAL_NATS_CLUSTER_PORT: EnvPort('SHOAL_NATS_CLUSTER_PORT', 6222),
  SHOAL_STATE_DIR: z.string().min(1).default('.state/fleet'),
});

/** Everything `startFleet` needs. Port fields are bases: proxy or shard `i` uses base + i. */
export interface FleetConfig {
  /** Number of proxies. @default 2 */
  readonly proxies: number;
  /** Number of JetStream shards (one nats-server each). @default 3 */
  readonly shards: number;
  /** MQTT/TCP port of proxy 0. @default 1883 */
  readonly mqttPort: number;
  /** MQTT over WebSocket (`/mqtt`) port of proxy 0. @default 8083 */
  readonly wsPort: number;
  /** `/metrics`, `/healthz`, `/readyz` port of proxy 0. @default 9100 */
  readonly metricsPort: number;
  /** NATS client port of shard 0. @default 4222 */
  readonly natsPort: number;
  /** NATS monitoring port of shard 0. @default 8222 */
  readonly natsHttpPort: number;
  /** Redis port. @default 6379 */
  readonly redisPort: number;
  /**
   * nats-server processes per shard: 1, or 3 forming a JetStream cluster with R3 streams. With 3, replica `r` of
   * shard `i` uses the NATS, monitoring and route ports base + 3i + r. @default 1
   */
  readonly shardReplicas?: 1 | 3;
  /**
   * GOMAXPROCS of each shard's nats-server: the cores it schedules on, as a pod's CPU limit would set it. On a
   * machine shared by every process of the fleet, a Go runtime scheduling on every core wakes and spins its
   * idle processors for each message and takes that CPU from the others (docs/performance.md, "Shards on one
   * core each"). @default 1
   */
  readonly shardCpus?: number;
  /** Route port of the first clustered nats-server (shardReplicas 3 only). @default 6222 */
  readonly natsClusterPort?: number;
  /** Absolute directory for data, logs, configs and the ring file. @default `<cwd>/.state/fleet` */
  readonly stateDir: string;
}

/** A fleet setting that is missing its valid value; the message names the variable and the problem. */
export class FleetConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FleetConfigError';
  }
}

/** The highest port a range `base .. base + count - 1` reaches must stay a valid port. */
function checkRanges(config: FleetConfig): string[] {
  const servers = config.shards * (config.shardReplicas ?? 1);
  const ranges: [string, number, number][] = [
    ['SHOAL_MQTT_PORT', config.mqttPort, config.proxies],
    ['SHOAL_WS_PORT', config.wsPort, config.proxies],
    ['SHOAL_METRICS_PORT', config.metricsPort, config.proxies],
    ['SHOAL_NATS_PORT', config.natsPort, servers],
    ['SHOAL_NATS_HTTP_PORT', config.natsHttpPort, servers],
    ['SHOAL_REDIS_PORT', config.redisPort, 1],
  ];
  if (config.shardReplicas === 3) ranges.push(['SHOAL_NATS_CLUSTER_PORT', config.natsClusterPort ?? 6222, servers]);
  const problems: string[] = [];
  const owner = new Map<number, string>();
  for (const [name, base, count] of ranges) {
    if (base + count - 1 > 65_535) problems.push(`${name}=${base} + ${count - 1} exceeds port 65535`);
    for (let port = base; port < base + count; port += 1) {
      const previous = owner.get(port);
      if (previous !== undefined && previous !== name) problems.push(`${name} and ${previous} both use port ${port}`);
      owner.set(port, name);
    }
  }
  return [...new Set(problems)];
}

/**
 * Reads the fleet settings from `env` (pass `process.env`); relative SHOAL_STATE_DIR is resolved against
 * `cwd`. Throws FleetConfigError listing every invalid variable.
 */
export function fleetConfigFromEnv(env: Readonly<Record<string, string | undefined>>, cwd: string): FleetConfig {
  const present = Object.fromEntries(
    Object.keys(FleetEnv.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = FleetEnv.safeParse(present);
  if (!parsed.success) {
    throw new FleetConfigError(`invalid fleet settings:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  const config: FleetConfig = {
    proxies: e.SHOAL_PROXIES,
    shards: e.SHOAL_SHARDS,
    mqttPort: e.SHOAL_MQTT_PORT,
    wsPort: e.SHOAL_WS_PORT,
    metricsPort: e.SHOAL_METRICS_PORT,
    natsPort: e.SHOAL_NATS_PORT,
    natsHttpPort: e.SHOAL_NATS_HTTP_PORT,
    redisPort: e.SHOAL_REDIS_PORT,
    shardReplicas: e.SHOAL_SHARD_REPLICAS === 3 ? 3 : 1,
    natsClusterPort: e.SHOAL_NATS_CLUSTER_PORT,
    stateDir: isAbsolute(e.SHOAL_STATE_DIR) ? e.SHOAL_STATE_DIR : resolve(cwd, e.SHOAL_STATE_DIR),
  };
  const problems = checkRanges(config);
  if (problems.length > 0) {
    throw new FleetConfigError(`invalid fleet settings:\n${problems.map((p) => `✖ ${p}`).join('\n')}`);
  }
  return config;
}

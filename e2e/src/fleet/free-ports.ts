// Port bases for a fleet on free ports (tests and benchmarks run next to `make up` and each other).
import { createServer } from 'node:net';
import type { FleetConfig } from './fleet-config.js';

/** The port fields of a FleetConfig. */
export type FleetPorts = Pick<FleetConfig, 'mqttPort' | 'wsPort' | 'metricsPort' | 'natsPort' | 'natsHttpPort' | 'redisPort'> & {
  readonly natsClusterPort: number;
};

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Port bases b, b+10, …, b+60 (MQTT, WebSocket, metrics, NATS, NATS monitoring, Redis, NATS routes) such that
 * base + i is free for i < `perBlock` in every block right now; `perBlock` is the largest of the proxy count and
 * the nats-server count (shards × replicas).
 */
export async function freeFleetPorts(perBlock: number): Promise<FleetPorts> {
  if (perBlock > 10) throw new RangeError('at most 10 proxies or shards per block');
  for (let attempt = 0; attempt < 50; attempt++) {
    // below Linux's ephemeral range (32768+): a client's source port must not take a port of a shard started later
    const base = 20_000 + Math.floor(Math.random() * 120) * 100;
    const ports = Array.from({ length: 7 * perBlock }, (_, k) => base + Math.floor(k / perBlock) * 10 + (k % perBlock));
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) {
      return { mqttPort: base, wsPort: base + 10, metricsPort: base + 20, natsPort: base + 30, natsHttpPort: base + 40, redisPort: base + 50, natsClusterPort: base + 60 };
    }
  }
  throw new Error('no free port range found');
}

function assertPortFree(port: number, variable: string): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(`port ${port} (${variable}) on 127.0.0.1 is in use: ${err.code ?? err.message}`));
    });
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolvePort()));
  });
}

/** Fails listing every port of the fleet that is taken on 127.0.0.1 (each nats-server member's ports included). */
export async function assertPortsFree(config: FleetConfig): Promise<void> {
  const checks: Promise<void>[] = [assertPortFree(config.redisPort, 'SHOAL_REDIS_PORT')];
  const replicas = config.shardReplicas ?? 1;
  for (let k = 0; k < config.shards * replicas; k += 1) {
    checks.push(assertPortFree(config.natsPort + k, 'SHOAL_NATS_PORT'));
    checks.push(assertPortFree(config.natsHttpPort + k, 'SHOAL_NATS_HTTP_PORT'));
    if (replicas > 1) checks.push(assertPortFree((config.natsClusterPort ?? 6222) + k, 'SHOAL_NATS_CLUSTER_PORT'));
  }
  for (let i = 0; i < config.proxies; i += 1) {
    checks.push(assertPortFree(config.mqttPort + i, 'SHOAL_MQTT_PORT'));
    checks.push(assertPortFree(config.wsPort + i, 'SHOAL_WS_PORT'));
    checks.push(assertPortFree(config.metricsPort + i, 'SHOAL_METRICS_PORT'));
  }
  const failures = (await Promise.allSettled(checks)).filter((r) => r.status === 'rejected');
  if (failures.length > 0) {
    const reasons = failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason)));
    throw new Error(`cannot start the fleet:\n  ${reasons.join('\n  ')}`);
  }
}

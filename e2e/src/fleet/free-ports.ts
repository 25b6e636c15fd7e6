// Port bases for a fleet on free ports (tests and benchmarks run next to `make up` and each other).
import { createServer } from 'node:net';
import type { FleetConfig } from './fleet-config.js';

/** The six port fields of a FleetConfig. */
export type FleetPorts = Pick<FleetConfig, 'mqttPort' | 'wsPort' | 'metricsPort' | 'natsPort' | 'natsHttpPort' | 'redisPort'>;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Port bases b, b+10, …, b+50 (MQTT, WebSocket, metrics, NATS, NATS monitoring, Redis) such that base + i is
 * free for i < `perBlock` in every block right now; `perBlock` is the larger of the proxy and shard counts.
 */
export async function freeFleetPorts(perBlock: number): Promise<FleetPorts> {
  if (perBlock > 10) throw new RangeError('at most 10 proxies or shards per block');
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 400) * 100;
    const ports = Array.from({ length: 6 * perBlock }, (_, k) => base + Math.floor(k / perBlock) * 10 + (k % perBlock));
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) {
      return { mqttPort: base, wsPort: base + 10, metricsPort: base + 20, natsPort: base + 30, natsHttpPort: base + 40, redisPort: base + 50 };
    }
  }
  throw new Error('no free port range found');
}

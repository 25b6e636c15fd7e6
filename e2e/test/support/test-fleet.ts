// A local fleet on free ports in a temporary state directory, for integration tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { FleetConfig } from '../../src/fleet/fleet-config.js';
import { startFleet, type Fleet, type FleetOptions } from '../../src/fleet/fleet.js';
import { freeFleetPorts } from '../../src/fleet/free-ports.js';
import { httpGet } from '../../src/processes/child-process.js';

/** What a test fleet may change beyond the counts: fleet options, shard replicas, room for added shards. */
export interface TestFleetOptions extends FleetOptions {
  /** nats-server processes per shard. @default 1 */
  readonly shardReplicas?: 1 | 3;
  /** Free ports per block (room for shards added at run time). @default the largest process count */
  readonly portsPerBlock?: number;
}

/** Starts a fleet of `proxies` proxies and `shards` shards on free ports (`options` for the rest). */
export async function startTestFleet(proxies = 2, shards = 3, options: TestFleetOptions = {}): Promise<Fleet> {
  const { shardReplicas = 1, portsPerBlock, ...fleetOptions } = options;
  const config: FleetConfig = {
    proxies,
    shards,
    shardReplicas,
    ...(await freeFleetPorts(portsPerBlock ?? Math.max(proxies, shards * shardReplicas))),
    stateDir: mkdtempSync(join(tmpdir(), 'shoal-fleet-')),
  };
  return startFleet(config, { proxyEnv: { SHOAL_LOG_LEVEL: 'warn' }, ...fleetOptions });
}

/** An MQTT.js client connected to proxy `i` of the fleet (TCP, or WebSocket with `ws: true`). */
export async function connectClient(
  fleet: Fleet,
  i: number,
  options: IClientOptions & { ws?: boolean } = {},
): Promise<MqttClient> {
  const endpoint = fleet.proxyEndpoints[i];
  if (endpoint === undefined) throw new Error(`no proxy ${i}`);
  const { ws, ...rest } = options;
  const client = await mqtt.connectAsync(ws === true ? endpoint.wsUrl : endpoint.mqttUrl, {
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...rest,
  });
  return client;
}

/** GETs a JSON document from a shard's monitoring port. */
export async function shardMonitor<T>(fleet: Fleet, shard: number, path: string): Promise<T> {
  const running = fleet.shard(shard);
  if (running === undefined) throw new Error(`shard ${shard} is not running`);
  const response = await httpGet(`${running.monitorUrl}${path}`);
  return JSON.parse(response.body) as T;
}

/** Resolves once `count` messages arrived on `client` (and rejects after `timeoutMs`). */
export function collectMessages(client: MqttClient, count: number, timeoutMs = 20_000): Promise<{ topic: string; payload: Buffer }[]> {
  const received: { topic: string; payload: Buffer }[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeListener('message', onMessage);
      reject(new Error(`received ${received.length}/${count} messages in ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (topic: string, payload: Buffer): void => {
      received.push({ topic, payload });
      if (received.length === count) {
        clearTimeout(timer);
        client.removeListener('message', onMessage);
        resolve(received);
      }
    };
    client.on('message', onMessage);
  });
}

// The systems the side-by-side benchmark drives with the same load: the Shoal fleet (2 proxies × 3 shards,
// Redis sessions), Mosquitto (one process), and nats-server's built-in MQTT (one nats-server with JetStream).
// Each is started on free ports of 127.0.0.1 under one state directory and stopped by stopTargets().
import { join } from 'node:path';
import type { Fleet } from '../../e2e/src/fleet/fleet.js';
import { startFleet } from '../../e2e/src/fleet/fleet.js';
import { freeFleetPorts } from '../../e2e/src/fleet/free-ports.js';
import { freePort } from '../../e2e/src/processes/child-process.js';
import { startMosquitto } from '../../e2e/src/processes/mosquitto.js';
import { startNatsServer } from '../../e2e/src/processes/nats-server.js';
import { FleetProbe } from './fleet-probe.js';

export type TargetName = 'shoal' | 'mosquitto' | 'nats-mqtt';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface Target {
  readonly name: TargetName;
  /** What runs, for the tables. */
  readonly description: string;
  /** Where subscribers connect (the fleet: proxy 0) and where publishers connect (the fleet: proxy 1). */
  readonly subscribeTo: Endpoint;
  readonly publishTo: Endpoint;
  /** Every MQTT endpoint (the fleet: each proxy), for loads spread over all of them. */
  readonly endpoints: readonly Endpoint[];
  /** Every process of the system: its CPU and RSS are the system's (the fleet: proxies, shards, Redis). */
  readonly pids: ReadonlyMap<string, number>;
  /** The processes that hold the client connections (the fleet: the proxies; a broker: itself). */
  readonly connectionPids: ReadonlyMap<string, number>;
  /** Waits until the previous scenario's backlog is gone; returns the seconds waited. */
  settle(): Promise<number>;
  stop(): Promise<void>;
}

const endpointOf = (url: string): Endpoint => {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
};

export async function startShoal(stateDir: string, proxyMain?: string): Promise<Target & { readonly fleet: Fleet }> {
  const fleet = await startFleet(
    { proxies: 2, shards: 3, ...(await freeFleetPorts(3)), stateDir: join(stateDir, 'shoal') },
    { proxyEnv: { SHOAL_LOG_LEVEL: 'warn' }, ...(proxyMain === undefined ? {} : { proxyMain }) },
  );
  const probe = new FleetProbe(fleet);
  const endpoints = fleet.proxyEndpoints.map((p) => endpointOf(p.mqttUrl));
  const proxies = new Map([...probe.pids].filter(([name]) => name.startsWith('proxy-')));
  return {
    name: 'shoal',
    description: 'Shoal: 2 proxies × 3 JetStream shards (R1 file store), Redis sessions',
    subscribeTo: endpoints[0] ?? { host: '127.0.0.1', port: 0 },
    publishTo: endpoints[1] ?? { host: '127.0.0.1', port: 0 },
    endpoints,
    pids: probe.pids,
    connectionPids: proxies,
    settle: () => probe.settle(),
    stop: () => fleet.stop(),
    fleet,
  };
}

/** A broker that is one process on one port: it holds the connections and its CPU and RSS are the system's. */
function singleProcessTarget(name: TargetName, description: string, port: number, process: { name: string; pid: number; stop(): Promise<void> }): Target {
  const endpoint = { host: '127.0.0.1', port };
  const pids = new Map([[process.name, process.pid]]);
  return { name, description, subscribeTo: endpoint, publishTo: endpoint, endpoints: [endpoint], pids, connectionPids: pids, settle: () => Promise.resolve(0), stop: () => process.stop() };
}

export async function startMosquittoTarget(stateDir: string): Promise<Target> {
  const broker = await startMosquitto({ dir: join(stateDir, 'mosquitto'), maxQueuedMessages: 100_000 });
  return singleProcessTarget('mosquitto', 'Mosquitto 2.0 (Debian), one process, no persistence', broker.port, { name: 'mosquitto', pid: broker.pid, stop: () => broker.stop() });
}

export async function startNatsMqttTarget(stateDir: string): Promise<Target> {
  const mqttPort = await freePort();
  const server = await startNatsServer({ storeDir: join(stateDir, 'nats-mqtt', 'store'), serverName: 'nats-mqtt', mqttPort });
  return singleProcessTarget('nats-mqtt', "nats-server's built-in MQTT, one server, JetStream file store", mqttPort, { name: 'nats-server', pid: server.pid, stop: () => server.stop() });
}

export async function stopTargets(targets: readonly Target[]): Promise<void> {
  await Promise.all(targets.map((t) => t.stop().catch(() => undefined)));
}

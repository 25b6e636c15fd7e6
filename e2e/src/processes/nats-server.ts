// Starts a real nats-server with JetStream on 127.0.0.1 from a generated config file: one shard of a
// local fleet or of an integration test. Ready when the monitor's JetStream health check answers 200.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, httpReady, startProcess } from './child-process.js';
import type { ExitInfo } from './child-process.js';

/** `<repo>/.tools/bin/nats-server`, built by `make tools`. */
export const DEFAULT_NATS_SERVER_BINARY = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '.tools',
  'bin',
  'nats-server',
);

export interface NatsServerOptions {
  /** Path of the nats-server binary; DEFAULT_NATS_SERVER_BINARY when absent. */
  readonly binary?: string;
  /** Client port; a free one when absent. Pass the previous port to restart a shard in place. */
  readonly port?: number;
  /** Monitoring port; a free one when absent. */
  readonly httpPort?: number;
  /** JetStream store directory (created); keep it to restart a shard with its streams. */
  readonly storeDir: string;
  /** `server_name`; also names the config and log files. */
  readonly serverName: string;
  /** Default `<dirname(storeDir)>/<serverName>.log` (appended to across restarts). */
  readonly logFile?: string;
  /** `max_payload`; default 8 MiB so MQTT's largest packets plus Shoal headers fit. */
  readonly maxPayloadBytes?: number;
  /** Default 20 s. */
  readonly readyTimeoutMs?: number;
  /** Also serve MQTT (nats-server's built-in MQTT, on JetStream) on this port of 127.0.0.1. */
  readonly mqttPort?: number;
  /** Member of a JetStream cluster (a clustered shard): its name, this server's route port and every route. */
  readonly cluster?: NatsClusterOptions;
  /** GOMAXPROCS: the cores the Go runtime schedules on, as a CPU limit sets it in a pod; absent: every core. */
  readonly cpus?: number;
}

/** The cluster block of one member of a JetStream cluster (routes on 127.0.0.1). */
export interface NatsClusterOptions {
  readonly name: string;
  readonly port: number;
  /** Route ports of every member (this one's included; nats-server ignores a route to itself). */
  readonly routePorts: readonly number[];
}

export interface RunningNatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly httpPort: number;
  /** `http://127.0.0.1:<httpPort>` */
  readonly monitorUrl: string;
  readonly pid: number;
  readonly serverName: string;
  readonly storeDir: string;
  readonly configFile: string;
  readonly logFile: string;
  /** Settles when the server process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM (a clean JetStream shutdown), SIGKILL if it takes longer than 10 s. */
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** The config file text: client and monitor listeners on 127.0.0.1 only, JetStream on `storeDir`. */
export function natsServerConfig(options: {
  serverName: string;
  port: number;
  httpPort: number;
  storeDir: string;
  maxPayloadBytes: number;
  cluster?: NatsClusterOptions | undefined;
  mqttPort?: number;
}): string {
  const q = (text: string): string => JSON.stringify(text);
  return [
    `server_name: ${q(options.serverName)}`,
    `listen: "127.0.0.1:${options.port}"`,
    `http: "127.0.0.1:${options.httpPort}"`,
    `max_payload: ${options.maxPayloadBytes}`,
    `jetstream {`,
    `  store_dir: ${q(options.storeDir)}`,
    `  max_memory_store: 268435456`,
    `  max_file_store: 4294967296`,
    `}`,
    ...(options.cluster === undefined
      ? []
      : [
          `cluster {`,
          `  name: ${q(options.cluster.name)}`,
          `  listen: "127.0.0.1:${options.cluster.port}"`,
          `  routes: [${options.cluster.routePorts.map((p) => q(`nats-route://127.0.0.1:${p}`)).join(', ')}]`,
          `}`,
        ]),
    ...(options.mqttPort === undefined ? [] : [`mqtt {`, `  listen: "127.0.0.1:${options.mqttPort}"`, `}`]),
    '',
  ].join('\n');
}

/** Starts nats-server and resolves once `/healthz?js-enabled-only=true` answers 200. */
export async function startNatsServer(options: NatsServerOptions): Promise<RunningNatsServer> {
  const port = options.port ?? (await freePort());
  const httpPort = options.httpPort ?? (await freePort());
  const storeDir = resolve(options.storeDir);
  const baseDir = dirname(storeDir);
  const configFile = join(baseDir, `${options.serverName}.conf`);
  const logFile = options.logFile ?? join(baseDir, `${options.serverName}.log`);
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(
    configFile,
    natsServerConfig({
      serverName: options.serverName,
      port,
      httpPort,
      storeDir,
      maxPayloadBytes: options.maxPayloadBytes ?? 8 * 1024 * 1024,
      cluster: options.cluster,
      ...(options.mqttPort === undefined ? {} : { mqttPort: options.mqttPort }),
    }),
  );
  const monitorUrl = `http://127.0.0.1:${httpPort}`;
  const child = await startProcess({
    name: `nats-server ${options.serverName}`,
    command: options.binary ?? DEFAULT_NATS_SERVER_BINARY,
    args: ['-c', configFile],
    ...(options.cpus === undefined ? {} : { env: { ...process.env, GOMAXPROCS: String(options.cpus) } }),
    logFile,
    ready: httpReady(`${monitorUrl}/healthz?js-enabled-only=true`),
    readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    stopTimeoutMs: 10_000,
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    httpPort,
    monitorUrl,
    pid: child.pid,
    serverName: options.serverName,
    storeDir,
    configFile,
    logFile,
    exited: child.exited,
    stop: async () => {
      await child.stop();
    },
    kill: (signal) => child.kill(signal),
  };
}

// Starts a real Mosquitto broker (the Debian package, installed by `make tools`) on 127.0.0.1 from a generated
// config file: the baseline of the benchmarks. Ready when its port accepts a TCP connection.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, startProcess, tcpReady } from './child-process.js';
import type { ExitInfo } from './child-process.js';

/** The Debian package installs the broker here (not on a non-root PATH). */
export const DEFAULT_MOSQUITTO_BINARY = '/usr/sbin/mosquitto';

export interface MosquittoOptions {
  /** TCP port on 127.0.0.1; a free one when absent. */
  readonly port?: number;
  /** Directory (created) for the config file and the log. */
  readonly dir: string;
  /** Messages queued per client beyond the in-flight ones (offline QoS 1 included); Mosquitto's default is 1000. */
  readonly maxQueuedMessages?: number;
  readonly binary?: string;
  /** Default 10 s. */
  readonly readyTimeoutMs?: number;
}

export interface RunningMosquitto {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly configFile: string;
  readonly logFile: string;
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM, SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/**
 * The config file text: one listener on 127.0.0.1, anonymous clients, no persistence to disk, stays root
 * (it would otherwise switch to the `mosquitto` user and lose access to the log in `dir`), logs to stderr.
 */
export function mosquittoConfig(options: { port: number; maxQueuedMessages: number }): string {
  return [
    `listener ${options.port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'user root',
    'set_tcp_nodelay true',
    'max_connections -1',
    `max_queued_messages ${options.maxQueuedMessages}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'connection_messages false',
    '',
  ].join('\n');
}

export async function startMosquitto(options: MosquittoOptions): Promise<RunningMosquitto> {
  const port = options.port ?? (await freePort());
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'mosquitto.conf');
  const logFile = join(dir, 'mosquitto.log');
  writeFileSync(configFile, mosquittoConfig({ port, maxQueuedMessages: options.maxQueuedMessages ?? 1_000 }));
  const child = await startProcess({
    name: 'mosquitto',
    command: options.binary ?? DEFAULT_MOSQUITTO_BINARY,
    args: ['-c', configFile],
    logFile,
    ready: tcpReady(port),
    readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    stopTimeoutMs: 5_000,
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    configFile,
    logFile,
    exited: child.exited,
    stop: async () => {
      await child.stop();
    },
  };
}

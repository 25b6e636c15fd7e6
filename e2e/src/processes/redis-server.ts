// Starts a real redis-server on 127.0.0.1 for integration tests and the local fleet. Configured entirely on
// the command line (no config file), in the foreground, logging to a file; ready when it answers PING
// (a server still loading its append-only file answers -LOADING and is not ready yet).
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { freePort, startProcess } from './child-process.js';
import type { ExitInfo, ReadinessProbe } from './child-process.js';

/** What a started server keeps on disk across restarts. */
export type RedisPersistence = 'none' | 'aof';

export interface RedisServerOptions {
  /** TCP port on 127.0.0.1; a free one when absent. Pass the previous port to restart in place. */
  readonly port?: number;
  /** Working directory (created): the append-only file lives here. */
  readonly dir: string;
  /** Default `<dir>/redis-server.log` (appended to across restarts). */
  readonly logFile?: string;
  /** `none` (default): nothing written to disk. `aof`: append-only file, fsync every second, reloaded on start. */
  readonly persistence?: RedisPersistence;
  /** The redis-server binary; `redis-server` from PATH (Debian package, installed by `make tools`) by default. */
  readonly binary?: string;
  /** Default 20 s. */
  readonly readyTimeoutMs?: number;
}

export interface RunningRedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  /** Settles when the server process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM (Redis flushes the append-only file and exits), SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** Sends a signal without waiting: SIGKILL simulates a crash, SIGSTOP a hang. */
  kill(signal: NodeJS.Signals): void;
}

/** The redis-server command line for a foreground server bound to 127.0.0.1 only. */
export function redisServerArgs(options: { port: number; dir: string; persistence: RedisPersistence }): string[] {
  const persistence =
    options.persistence === 'aof'
      ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '']
      : ['--appendonly', 'no', '--save', ''];
  return [
    '--bind',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--dir',
    options.dir,
    '--daemonize',
    'no',
    '--logfile',
    '',
    ...persistence,
  ];
}

/** Ready when `PING` on 127.0.0.1:port is answered with `+PONG`. */
export function redisPingReady(port: number, timeoutMs = 1_000): ReadinessProbe {
  return () =>
    new Promise((resolvePing) => {
      const socket = connect({ host: '127.0.0.1', port });
      let reply = '';
      const done = (ok: boolean): void => {
        socket.destroy();
        resolvePing(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString('latin1');
        if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
      });
      socket.once('close', () => done(false));
    });
}

/** Starts redis-server in the foreground and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions): Promise<RunningRedisServer> {
  const port = options.port ?? (await freePort());
  const dir = resolve(options.dir);
  const logFile = options.logFile ?? join(dir, 'redis-server.log');
  mkdirSync(dir, { recursive: true });
  const child = await startProcess({
    name: `redis-server :${port}`,
    command: options.binary ?? 'redis-server',
    args: redisServerArgs({ port, dir, persistence: options.persistence ?? 'none' }),
    cwd: dir,
    logFile,
    ready: redisPingReady(port),
    readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    stopTimeoutMs: 5_000,
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    dir,
    logFile,
    exited: child.exited,
    stop: async () => {
      await child.stop();
    },
    kill: (signal) => {
      child.kill(signal);
    },
  };
}

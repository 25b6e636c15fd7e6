// Supervised child processes for integration tests and the local fleet: spawn with output appended to
// a log file, wait until a TCP port accepts or a probe passes (failing with the log tail), stop with
// SIGTERM then SIGKILL after a bound. Children still running when this process exits (normally, or on
// SIGINT/SIGTERM/SIGHUP) are killed, so a crashed or interrupted test run leaves no orphans.
//
// API: freePort(), startProcess(options) → SupervisedProcess, and the readiness helpers tcpReady(),
// httpReady(), plus httpGet() for tests that read monitoring endpoints.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { dirname } from 'node:path';

/** A free TCP port on `host`, found by binding port 0 (another process may take it before you do). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** A readiness check: resolves true when the service is ready; false or a rejection means "not yet". */
export type ReadinessProbe = () => Promise<boolean>;

/** True when a TCP connection to host:port is accepted. */
export function tcpReady(port: number, host = '127.0.0.1'): ReadinessProbe {
  return () =>
    new Promise((resolve) => {
      const socket = connect({ host, port });
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1_000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}

/** Status and body of an HTTP GET (no keep-alive, so nothing lingers after the call). */
export function httpGet(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** True when GET `url` answers `status` (200 by default). */
export function httpReady(url: string, status = 200): ReadinessProbe {
  return async () => (await httpGet(url, 1_000)).status === status;
}

/** How a supervised process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartProcessOptions {
  /** Shown in errors, e.g. `nats-server shard-0`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Environment of the child; the parent's when absent. */
  readonly env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here (the directory is created). */
  readonly logFile: string;
  /** Passes once the process serves; polled until `readyTimeoutMs`. */
  readonly ready: ReadinessProbe;
  /** Default 20 s. On timeout the process is killed and the error carries the log tail. */
  readonly readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL in stop(); default 5 s. */
  readonly stopTimeoutMs?: number;
  /** Default 50 ms. */
  readonly pollIntervalMs?: number;
}

/** A started, ready child process. */
export interface SupervisedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited, however that happened. */
  readonly exited: Promise<ExitInfo>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `stopTimeoutMs`; resolves once exited. Safe to call twice. */
  stop(): Promise<ExitInfo>;
  /** Sends a signal without waiting (e.g. SIGKILL to simulate a crash, SIGSTOP to freeze it). */
  kill(signal: NodeJS.Signals): void;
  /** The last `lines` lines of the log file. */
  logTail(lines?: number): Promise<string>;
}

// The one piece of process-wide state: live children, so that they die with this process. It cannot
// be injected — exit and signal handlers belong to the process.
const liveChildren = new Set<number>();
let exitHandlersInstalled = false;

function killLiveChildren(): void {
  for (const pid of liveChildren) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
}

function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  process.on('exit', killLiveChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killLiveChildren();
      process.removeListener(signal, onSignal);
      // Keep the usual meaning of the signal: if nobody else handles it, the process ends.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** The last `lines` lines of a file (reads at most its last 64 KiB). */
export async function readLogTail(file: string, lines = 40): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 65_536);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').split('\n').slice(-lines - 1).join('\n');
    } finally {
      await handle.close();
    }
  } catch {
    return '(no log)';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Spawns a process and resolves once `ready` passes; rejects (and kills it) if it exits or times out. */
export async function startProcess(options: StartProcessOptions): Promise<SupervisedProcess> {
  const { name, logFile } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  const pollIntervalMs = options.pollIntervalMs ?? 50;

  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  installExitHandlers();
  let child: ChildProcess;
  try {
    child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
  const spawned = new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? 0));
    child.once('error', reject);
  });
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) liveChildren.delete(child.pid);
      resolve({ code, signal });
    });
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;

  let pid: number;
  try {
    pid = await spawned;
  } catch (error) {
    throw new Error(`${name}: cannot start ${options.command}: ${(error as Error).message}`, { cause: error });
  }
  liveChildren.add(pid);

  const kill = (signal: NodeJS.Signals): void => {
    if (running()) child.kill(signal);
  };
  let stopping: Promise<ExitInfo> | undefined;
  const stop = (): Promise<ExitInfo> => {
    stopping ??= (async () => {
      if (!running()) return exited;
      kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, stopTimeoutMs);
      });
      const result = await Promise.race([exited, forced.then(() => undefined)]);
      clearTimeout(timer);
      if (result !== undefined) return result;
      kill('SIGKILL');
      return exited;
    })();
    return stopping;
  };

  const started: SupervisedProcess = {
    name,
    pid,
    logFile,
    exited,
    isRunning: running,
    stop,
    kill,
    logTail: (lines?: number) => readLogTail(logFile, lines),
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (!running()) {
      const info = await exited;
      throw new Error(
        `${name} exited before it was ready (code ${info.code}, signal ${info.signal}); log ${logFile}:\n${await started.logTail()}`,
      );
    }
    const ready = await options.ready().catch(() => false);
    if (ready) return started;
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(`${name} not ready after ${readyTimeoutMs} ms; log ${logFile}:\n${await started.logTail()}`);
    }
    await Promise.race([delay(pollIntervalMs), exited]);
  }
}

// Reconnect storm: 20,000 persistent MQTT clients lose their proxies at once and all reconnect to the survivors.
// A fleet of 4 proxies (3 shards, Redis sessions) on free ports; `--generators` child processes (bench/lib/
// storm-clients.ts, each on its own 127.0.0.x source address, each below 20,000 file descriptors) connect
// `--clients` clients to proxies 0 and 1, which are then SIGKILLed together (one node with two proxy pods dying:
// a single proxy process cannot hold 20,000 connections under this machine's 20,000-descriptor limit). Every
// client reconnects at once to proxy 2 or 3, whose connect admission queues the session opens. Prints the time
// from the kill to the last CONNACK, the reconnect latency percentiles, refusals (retried) and failures (not
// reconnected within `--deadline-ms`).
//
//   npx tsx bench/reconnect-storm.ts [--clients 20000] [--generators 4] [--deadline-ms 15000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import os, { loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startFleet } from '../e2e/src/fleet/fleet.js';
import { freeFleetPorts } from '../e2e/src/fleet/free-ports.js';
import { procCpuSeconds } from './lib/proc-stats.js';

interface Done {
  readonly reconnected: number;
  readonly failures: number;
  readonly refusals: number;
  readonly lastAt: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const GENERATOR = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'storm-clients.ts');

/** Resolves with the first stdout JSON line of `child` that has `key`. */
function lineWith<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (key in parsed) resolve(parsed[key] as T);
    });
    child.once('exit', (code) => reject(new Error(`generator exited (${String(code)}) before "${key}"`)));
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (flag: string, fallback: number): number => {
    const at = args.indexOf(flag);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const clients = option('--clients', 20_000);
  const generators = option('--generators', 4);
  const deadlineMs = option('--deadline-ms', 15_000);
  const stateDir = mkdtempSync(join(tmpdir(), 'shoal-storm-'));
  const fleet = await startFleet(
    { proxies: 4, shards: 3, ...(await freeFleetPorts(4)), stateDir },
    { proxyEnv: { SHOAL_LOG_LEVEL: 'warn' }, proxyConfig: { limits: { connectTimeoutMs: 30_000 } } },
  );
  const port = (i: number): number => Number(new URL(fleet.proxyEndpoints[i]?.mqttUrl ?? '').port);
  const children: ChildProcess[] = [];
  try {
    const per = Math.ceil(clients / generators);
    for (let g = 0; g < generators; g++) {
      const count = Math.min(per, clients - g * per);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', GENERATOR, '--count', String(count), '--first', String(g * per), '--victims', `${String(port(0))},${String(port(1))}`,
          '--survivors', `${String(port(2))},${String(port(3))}`, '--source', `127.0.0.${String(10 + g)}`, '--deadline-ms', String(deadlineMs)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
    }
    const connectStarted = Date.now();
    await Promise.all(children.map((c) => lineWith<number>(c, 'ready')));
    console.log(`${String(clients)} clients connected to proxies 0 and 1 in ${String(Date.now() - connectStarted)} ms`);
    const done = children.map((c) => lineWith<Done>(c, 'done'));
    const survivorCpu = (): number => [2, 3].reduce((total, i) => total + (procCpuSeconds(fleet.proxy(i)?.pid ?? 0) ?? Number.NaN), 0);
    const cpuBefore = survivorCpu();
    const killedAt = Date.now();
    await Promise.all([fleet.killProxy(0), fleet.killProxy(1)]);
    const results = await Promise.all(done);
    const cpu = survivorCpu() - cpuBefore;
    const sum = (f: (d: Done) => number): number => results.reduce((total, d) => total + f(d), 0);
    const last = Math.max(...results.map((d) => d.lastAt));
    console.log(`\nreconnect storm: ${String(clients)} clients, proxies 0+1 SIGKILLed, survivors 2+3, ${String(generators)} generator processes`);
    console.log('| reconnected | failures | refused (retried) | completion (kill → last CONNACK) | per-client p50 / p99 / max |');
    console.log('| --- | --- | --- | --- | --- |');
    const worst = (f: (d: Done) => number): number => Math.max(...results.map(f));
    console.log(
      `| ${String(sum((d) => d.reconnected))} | ${String(sum((d) => d.failures))} | ${String(sum((d) => d.refusals))} | ${((last - killedAt) / 1000).toFixed(2)} s | ` +
        `${String(worst((d) => d.p50))} / ${String(worst((d) => d.p99))} / ${String(worst((d) => d.max))} ms (worst generator) |`,
    );
    console.log(
      `survivors' CPU during the storm: ${cpu.toFixed(1)} s (${((cpu / clients) * 1e6).toFixed(0)} µs per reconnect); load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${String(os.availableParallelism())} cores`,
    );
    if (sum((d) => d.failures) > 0) process.exitCode = 1;
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await fleet.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

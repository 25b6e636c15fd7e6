// CONNECT → CONNACK rate of one proxy with the Redis session store (issue 3 asks ≥ 3,000/s per proxy, for new
// and for resumed sessions). Starts a local fleet (2 proxies × 3 shards, Redis sessions) on free ports, drives
// proxy 0 with `--concurrency` connect loops over raw sockets (source addresses 127.0.0.2–17, so TIME_WAIT
// does not exhaust the ephemeral ports), and prints CONNACKs per second, latency and the proxy's CPU.
//
//   npx tsx bench/connect-rate.ts [--seconds 10] [--concurrency 200]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../e2e/src/fleet/fleet.js';
import { freeFleetPorts } from '../e2e/src/fleet/free-ports.js';
import { drive } from './lib/connect-loop.js';
import { procCpuSeconds } from './lib/proc-stats.js';
import { Samples } from './lib/samples.js';

async function scenario(fleet: Fleet, name: string, ids: (n: number) => string, seconds: number, concurrency: number): Promise<string> {
  const proxy = fleet.proxy(0);
  if (proxy === undefined) throw new Error('proxy 0 is not running');
  const port = Number(new URL(fleet.proxyEndpoints[0]?.mqttUrl ?? '').port);
  const cpuBefore = procCpuSeconds(proxy.pid) ?? Number.NaN;
  const outcome = await drive(port, ids, seconds, concurrency);
  const cpu = (procCpuSeconds(proxy.pid) ?? Number.NaN) - cpuBefore;
  const samples = new Samples();
  for (const ms of outcome.latenciesMs) samples.add(ms);
  const latency = samples.percentiles();
  const rate = outcome.accepted / seconds;
  return `| ${name} | ${rate.toFixed(0)} | ${String(outcome.sessionPresent)} | ${String(outcome.failed)} | ${String(latency?.p50)} / ${String(latency?.p99)} | ${cpu.toFixed(2)} (${((cpu / Math.max(1, outcome.accepted)) * 1e6).toFixed(0)} µs per CONNECT) |`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (flag: string, fallback: number): number => {
    const at = args.indexOf(flag);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const seconds = option('--seconds', 10);
  const concurrency = option('--concurrency', 200);
  const stateDir = mkdtempSync(join(tmpdir(), 'shoal-connect-bench-'));
  const fleet = await startFleet({ proxies: 2, shards: 3, ...(await freeFleetPorts(3)), stateDir }, { proxyEnv: { SHOAL_LOG_LEVEL: 'warn' } });
  try {
    const rows: string[] = [];
    const run = Date.now().toString(36);
    // new: every CONNECT opens a session nobody had (clean=false: stored in Redis when it disconnects)
    rows.push(await scenario(fleet, 'new persistent sessions', (n) => `new-${run}-${String(n)}`, seconds, concurrency));
    // resumed: a pool of ids whose sessions the previous scenario stored, connected again and again
    rows.push(await scenario(fleet, 'resumed sessions', (n) => `new-${run}-${String(n % 5_000)}`, seconds, concurrency));
    console.log(`\nproxy 0 of a 2-proxy × 3-shard fleet, Redis sessions, ${String(concurrency)} connect loops, ${String(seconds)} s each, MQTT 3.1.1 clean=false\n`);
    console.log('| scenario | CONNACK/s | session present | failed | latency p50 / p99 (ms) | proxy CPU s |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const row of rows) console.log(row);
  } finally {
    await fleet.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

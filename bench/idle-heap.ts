// Where a proxy's memory per idle connection goes: starts a local fleet (2 proxies × 3 shards, Redis sessions)
// whose proxies write a heap snapshot on SIGUSR2, snapshots proxy 0, opens N idle connections to it, waits,
// snapshots it again, and prints RSS and heap per connection and the heap-diff by constructor. Before the first
// snapshot, 200 connections come and go: what the first packets make once per process (mqtt-packet's cache of
// 65,536 two-byte Buffers, ~6 MB, built at the first write; compiled code) is then not counted per connection.
//
//   npx tsx bench/idle-heap.ts [--connections 10000] [--keep]   (--keep: leave the snapshots, for retainer paths)
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFleet } from '../e2e/src/fleet/fleet.js';
import { freeFleetPorts } from '../e2e/src/fleet/free-ports.js';
import { IdlePool } from './lib/idle-pool.js';
import { procRssMiB } from './lib/proc-stats.js';
import { round } from './lib/samples.js';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A snapshot is written in pieces; it is complete once the JSON document is closed. */
function complete(file: string): boolean {
  const size = statSync(file).size;
  if (size < 2) return false;
  const tail = Buffer.alloc(1);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, tail, 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
  return tail.toString() === '}';
}

/** Sends SIGUSR2 and waits until a new, complete snapshot file appears in `dir`. */
async function snapshot(pid: number, dir: string): Promise<string> {
  const known = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (let waited = 0; waited < 120_000; waited += 500) {
    await sleep(500);
    const fresh = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !known.has(f));
    if (fresh !== undefined && complete(join(dir, fresh))) return join(dir, fresh);
  }
  throw new Error('no heap snapshot within 2 minutes');
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--connections');
  const connections = at >= 0 ? Number(process.argv[at + 1]) : 10_000;
  const stateDir = mkdtempSync(join(tmpdir(), 'shoal-idle-heap-'));
  const snapDir = join(stateDir, 'snapshots');
  mkdirSync(snapDir);
  const fleet = await startFleet({ proxies: 2, shards: 3, ...(await freeFleetPorts(3)), stateDir }, {
    proxyEnv: { SHOAL_LOG_LEVEL: 'warn', NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapDir}` },
  });
  const poolOf = (prefix: string): IdlePool =>
    new IdlePool({
      targets: [{ host: '127.0.0.1', port: Number(new URL(fleet.proxyEndpoints[0]?.mqttUrl ?? '').port) }],
      sourceAddresses: Array.from({ length: 8 }, (_, i) => `127.0.3.${String(10 + i)}`),
      clientIdPrefix: `${prefix}-${Date.now().toString(36)}`,
      keepaliveSeconds: 60,
      concurrency: 100,
    });
  const pool = poolOf('heap');
  try {
    const pid = fleet.proxy(0)?.pid ?? 0;
    const warmUp = poolOf('warm-up');
    await warmUp.open(200);
    await warmUp.close();
    await sleep(2_000);
    const before = await snapshot(pid, snapDir); // a snapshot collects garbage first
    const rssBefore = procRssMiB(pid) ?? 0;
    await pool.open(connections);
    await sleep(3_000);
    const rssAfterOpen = procRssMiB(pid) ?? 0;
    const after = await snapshot(pid, snapDir);
    const rssAfterGc = procRssMiB(pid) ?? 0;
    const n = pool.counts.open;
    console.log(`${n} idle connections on proxy 0 (${pool.counts.failed} failed)`);
    console.log(`RSS ${rssBefore} → ${rssAfterOpen} MiB (${round(((rssAfterOpen - rssBefore) * 1024) / n, 2)} KiB per connection); after the second snapshot's full GC ${rssAfterGc} MiB (${round(((rssAfterGc - rssBefore) * 1024) / n, 2)} KiB)`);
    console.log(execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'heap-diff.ts'), before, after, String(n), '--top', '25'], { encoding: 'utf8', maxBuffer: 1 << 24 }));
  } finally {
    await pool.close();
    await fleet.stop();
    if (process.argv.includes('--keep')) console.log(`snapshots kept in ${snapDir}`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

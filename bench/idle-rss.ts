// Where a proxy's RSS per idle connection goes over time: starts a local fleet (1 proxy × 1 shard, Redis
// sessions), opens N idle connections to the proxy (200 come and go first, as in idle-heap.ts), then reads the
// proxy's RSS and V8 heap spaces (its /metrics) right after, and every 5 s for a while: how much of the RSS read
// 3 s after the connects is garbage and young-generation space that a later GC gives back, and how much stays.
//
//   npx tsx bench/idle-rss.ts [--connections 10000] [--seconds 60]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet } from '../e2e/src/fleet/fleet.js';
import { freeFleetPorts } from '../e2e/src/fleet/free-ports.js';
import { IdlePool } from './lib/idle-pool.js';
import { procRssMiB } from './lib/proc-stats.js';
import { round } from './lib/samples.js';
import { setTimeout as sleep } from 'node:timers/promises';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};

/** MiB of the proxy's heap spaces (used / size) and external memory, from prom-client's default metrics. */
async function heapMiB(httpUrl: string): Promise<string> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const value = (re: RegExp): number => round(Number(re.exec(text)?.[1] ?? NaN) / 2 ** 20, 1);
  const space = (name: string): string => `${name} ${value(new RegExp(`heap_space_size_used_bytes\\{space="${name}"\\} (\\d+)`))}/${value(new RegExp(`heap_space_size_total_bytes\\{space="${name}"\\} (\\d+)`))}`;
  return `${['new', 'old', 'code'].map(space).join(', ')}; external ${value(/nodejs_external_memory_bytes (\d+)/)}`;
}

async function main(): Promise<void> {
  const connections = arg('--connections', 10_000);
  const seconds = arg('--seconds', 60);
  const stateDir = mkdtempSync(join(tmpdir(), 'shoal-idle-rss-'));
  const fleet = await startFleet({ proxies: 1, shards: 1, ...(await freeFleetPorts(1)), stateDir }, { proxyEnv: { SHOAL_LOG_LEVEL: 'warn' } });
  const target = { host: '127.0.0.1', port: Number(new URL(fleet.proxyEndpoints[0]?.mqttUrl ?? '').port) };
  const httpUrl = fleet.proxyEndpoints[0]?.httpUrl ?? '';
  const poolOf = (prefix: string, n: number): IdlePool =>
    new IdlePool({ targets: [target], sourceAddresses: Array.from({ length: Math.ceil(n / 5_000) + 1 }, (_, i) => `127.0.4.${String(10 + i)}`), clientIdPrefix: `${prefix}-${Date.now().toString(36)}`, keepaliveSeconds: 60, concurrency: 100 });
  const pool = poolOf('rss', connections);
  try {
    const pid = fleet.proxy(0)?.pid ?? 0;
    const warmUp = poolOf('warm-up', 200);
    await warmUp.open(200);
    await warmUp.close();
    await sleep(3_000);
    const before = procRssMiB(pid) ?? 0;
    console.log(`load average ${loadavg().map((x) => round(x)).join(' ')}; proxy RSS before ${before} MiB; heap MiB used/size: ${await heapMiB(httpUrl)}`);
    await pool.open(connections);
    const n = pool.counts.open;
    const started = performance.now();
    for (let t = 0; t <= seconds; t += t < 3 ? 3 : 5) {
      await sleep(Math.max(0, started + t * 1000 - performance.now()));
      const rss = procRssMiB(pid) ?? 0;
      console.log(`+${String(t).padStart(3)} s: RSS ${rss} MiB, ${round(((rss - before) * 1024) / n, 2)} KiB per connection (${n}); ${await heapMiB(httpUrl)}`);
    }
    console.log(`load average ${loadavg().map((x) => round(x)).join(' ')}`);
  } finally {
    await pool.close();
    await fleet.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

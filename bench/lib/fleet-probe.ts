// What the throughput benchmark reads from a running fleet: /metrics of the proxies, monitoring JSON of the
// shards, CPU and RSS of every process.
import { performance } from 'node:perf_hooks';
import type { Fleet } from '../../e2e/src/fleet/fleet.js';
import { httpGet } from '../../e2e/src/processes/child-process.js';
import { allProcesses, machineCpu, procCpuSeconds, procRssMiB, type CpuSnapshot } from './proc-stats.js';
import { parseMetrics, type Series } from './prom-text.js';
import { round, sum } from './samples.js';
import { setTimeout as sleep } from 'node:timers/promises';

const SCRAPE_TIMEOUT_MS = 20_000; // a saturated proxy answers /metrics late
const SETTLE_MS = 30_000; // longest wait for the previous scenario's backlog

export async function fetchJson(url: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse((await httpGet(url, SCRAPE_TIMEOUT_MS)).body) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** What the bench reads from the fleet's processes and endpoints. */
export class FleetProbe {
  readonly pids = new Map<string, number>();
  /** Per proxy, how long each /metrics scrape took (ms): a busy event loop answers late. */
  readonly scrapeMs: number[][];

  constructor(private readonly fleet: Fleet) {
    for (let i = 0; i < fleet.config.proxies; i++) this.pids.set(`proxy-${i}`, fleet.proxy(i)?.pid ?? 0);
    for (let i = 0; i < fleet.config.shards; i++) this.pids.set(`shard-${i}`, fleet.shard(i)?.pid ?? 0);
    this.pids.set('redis', fleet.redis()?.pid ?? 0);
    this.scrapeMs = fleet.proxyEndpoints.map(() => []);
  }

  metrics(): Promise<Series[]> {
    return Promise.all(this.fleet.proxyEndpoints.map(async (p, i) => {
      const started = performance.now();
      try {
        return parseMetrics((await httpGet(`${p.httpUrl}/metrics`, SCRAPE_TIMEOUT_MS)).body);
      } catch {
        return new Map<string, number>();
      } finally {
        this.scrapeMs[i]?.push(round(performance.now() - started, 0));
      }
    }));
  }

  shardJson(path: string): Promise<Record<string, unknown>[]> {
    return Promise.all(Array.from({ length: this.fleet.config.shards }, (_, i) => fetchJson(`${this.fleet.shard(i)?.monitorUrl ?? ''}${path}`)));
  }

  cpuSnapshot(): CpuSnapshot {
    return {
      at: performance.now(),
      self: process.cpuUsage(),
      named: new Map([...this.pids].map(([name, pid]) => [name, procCpuSeconds(pid)])),
      machine: machineCpu(),
      processes: allProcesses(),
    };
  }

  rssMiB(): Record<string, number | undefined> {
    return { loadGenerator: round(process.memoryUsage.rss() / 2 ** 20, 1), ...Object.fromEntries([...this.pids].map(([name, pid]) => [name, procRssMiB(pid)])) };
  }

  /**
   * Waits (up to SETTLE_MS) until no shard holds bytes for a proxy connection and every proxy answers
   * /metrics quickly, so that one scenario's backlog does not load the next. Returns the seconds waited.
   */
  async settle(): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < SETTLE_MS) {
      const connz = await this.shardJson('/connz');
      const pending = sum(connz.flatMap((c) => ((c['connections'] ?? []) as { pending_bytes?: number }[]).map((x) => x.pending_bytes ?? 0)));
      const slowest = Math.max(...(await Promise.all(this.fleet.proxyEndpoints.map(async (p) => {
        const t = performance.now();
        await httpGet(`${p.httpUrl}/metrics`, SCRAPE_TIMEOUT_MS).catch(() => undefined);
        return performance.now() - t;
      }))));
      if (pending === 0 && slowest < 200) break;
      await sleep(500);
    }
    return round((performance.now() - started) / 1000);
  }
}

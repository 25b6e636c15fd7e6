// Changing the shard count of a running local fleet (3 → 4 and back), as the operator's ring transition does:
//
//   1. start the new shard (scale-out);
//   2. "prepare": publish ring v+1 whose current shards are the old ones and whose `previous` is the NEW ring, so
//      every proxy subscribes on the union while still publishing to the old owners; wait until every proxy
//      runs v+1, is ready and has its subscriptions on every shard of the union (their counts on the shards'
//      /connz stop changing);
//   3. "switch": publish ring v+2 = the new ring with the old one as `previous` and `transitionUntil`; proxies
//      publish to the new owners and keep listening on the old ones until the deadline; wait for v+2 everywhere;
//   4. copy the retained messages of moved topics to their new owners (proxy/src/ring-transition);
//   5. finishShardChange(), after the deadline: the ring without `previous`; a shard that left is stopped.
//
// Step 2 closes the gap of a one-step change: a proxy that already publishes to the new owner while another
// has not yet subscribed there would lose live deliveries.
import { copyMovedRetained, movedFraction, type RetainedCopyReport } from '@shoal/proxy/internal';
import { httpGet } from '../processes/child-process.js';
import { buildFleetRing, type Fleet, type RingFileDocument } from './fleet.js';

export interface ShardChangeReport {
  readonly from: number;
  readonly to: number;
  /** Share of 100,000 sample topics whose owner changed (≈ 1/4 for 3 → 4). */
  readonly movedFraction: number;
  readonly retained: RetainedCopyReport;
  /** From the first ring write to the copy's end. */
  readonly durationMs: number;
}

type RingCore = Omit<RingFileDocument, 'previous' | 'transitionUntil'>;

const core = (doc: RingFileDocument): RingCore => ({ version: doc.version, vnodes: doc.vnodes, shardKeyLevels: doc.shardKeyLevels, shards: doc.shards });

const SAMPLE_TOPICS = Array.from({ length: 100_000 }, (_, n) => `devices/d${n}/telemetry`);

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`shard change: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The running proxies' http URLs. */
function runningProxies(fleet: Fleet): string[] {
  return fleet.proxyEndpoints.flatMap((e, i) => (fleet.proxy(i) === undefined ? [] : [e.httpUrl]));
}

/** Every running proxy runs ring `version` (and, with `ready`, answers /readyz 200). */
function proxiesAt(fleet: Fleet, version: number, ready: boolean): () => Promise<boolean> {
  return async () => {
    const answers = await Promise.all(
      runningProxies(fleet).map(async (url) => {
        const metrics = (await httpGet(`${url}/metrics`)).body;
        const at = new RegExp(`^shoal_proxy_ring_version ${version}$`, 'm').test(metrics);
        return at && (!ready || (await httpGet(`${url}/readyz`)).status === 200);
      }),
    );
    return answers.every(Boolean);
  };
}

interface Connz {
  readonly connections?: { readonly name?: string; readonly num_subscriptions?: number }[];
}

/** Subscription counts of the proxies' connections on every shard, as one comparable string. */
async function subscriptionSnapshot(fleet: Fleet): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < fleet.shardCount(); i++) {
    for (const server of fleet.shardGroup(i)?.servers ?? []) {
      if (server === undefined) continue;
      const connz = JSON.parse((await httpGet(`${server.monitorUrl}/connz?subs=1&limit=1024`)).body) as Connz;
      for (const c of connz.connections ?? []) if (c.name?.startsWith('shoal-proxy/') === true) parts.push(`${i}:${c.name}:${String(c.num_subscriptions)}`);
    }
  }
  return parts.sort().join(',');
}

/** Resolves once the subscription counts are the same in two snapshots 200 ms apart and every proxy is on every shard. */
async function subscriptionsSettled(fleet: Fleet, timeoutMs: number): Promise<void> {
  const expected = runningProxies(fleet).length * fleet.shardCount();
  let previous = '';
  await waitFor('subscriptions on every shard', timeoutMs, async () => {
    const now = await subscriptionSnapshot(fleet);
    const settled = now === previous && now.split(',').length >= expected;
    previous = now;
    if (!settled) await new Promise((resolve) => setTimeout(resolve, 100));
    return settled;
  });
}

/**
 * Changes the fleet to `target` shards (one more or fewer than now) with a two-step ring transition, copies
 * the moved retained messages and reports the moved fraction. Call finishShardChange() after `transitionMs`.
 */
export async function changeShardCount(fleet: Fleet, target: number, options: { transitionMs: number; timeoutMs?: number }): Promise<ShardChangeReport> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = Date.now();
  const from = fleet.shardCount();
  while (fleet.shardCount() < target) await fleet.addShard();
  const before = core(fleet.ring());
  const after: RingCore = { ...buildFleetRing({ ...fleet.config, shards: target }, before.version + 2), vnodes: before.vnodes, shardKeyLevels: before.shardKeyLevels };
  const until = (): string => new Date(Date.now() + options.transitionMs).toISOString();
  // 1. prepare: subscribe on the union, publish to the old owners
  // (a ring document's `previous` must carry a lower version: the new shards go there under the old number)
  const prepare = { ...before, version: before.version + 1, previous: { ...after, version: before.version } };
  fleet.rewriteRing({ ...prepare, transitionUntil: new Date(Date.now() + 10 * 60_000).toISOString() });
  await waitFor(`ring ${before.version + 1} on every proxy`, timeoutMs, proxiesAt(fleet, before.version + 1, true));
  await subscriptionsSettled(fleet, timeoutMs);
  // 2. switch: publish to the new owners, keep listening on the old ones until the deadline
  fleet.rewriteRing({ ...after, previous: before, transitionUntil: until() });
  await waitFor(`ring ${after.version} on every proxy`, timeoutMs, proxiesAt(fleet, after.version, false));
  const retained = await copyMovedRetained({ previous: before, current: after, timeoutMs });
  return { from, to: target, movedFraction: movedFraction(before, after, SAMPLE_TOPICS), retained, durationMs: Date.now() - started };
}

/** Ends the transition: writes the ring without `previous` and stops shards the ring no longer names. */
export async function finishShardChange(fleet: Fleet, timeoutMs = 60_000): Promise<void> {
  const ring = fleet.ring();
  const done: RingFileDocument = { ...core(ring), version: ring.version + 1 };
  fleet.rewriteRing(done);
  await waitFor(`ring ${done.version} on every proxy`, timeoutMs, proxiesAt(fleet, done.version, false));
  while (fleet.shardCount() > done.shards.length) await fleet.removeLastShard();
}

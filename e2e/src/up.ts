// `make up`: runs a local fleet in the foreground from the SHOAL_* environment (README.md), prints its
// endpoints, and stops everything cleanly on SIGINT/SIGTERM. A second start reuses the state directory.
import { relative } from 'node:path';
import { fleetConfigFromEnv } from './fleet/fleet-config.js';
import type { FleetConfig } from './fleet/fleet-config.js';
import { startFleet } from './fleet/fleet.js';
import type { Fleet } from './fleet/fleet.js';

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()).join('\n');
}

function describe(fleet: Fleet, config: FleetConfig): string {
  const rows: string[][] = [['component', 'endpoint', 'more', 'log']];
  const logName = (file: string): string => {
    const inside = relative(process.cwd(), file);
    return inside.startsWith('..') ? file : inside;
  };
  for (const [i, proxy] of fleet.proxyEndpoints.entries()) {
    rows.push([proxy.id, proxy.mqttUrl, proxy.wsUrl, logName(proxy.logFile)]);
    rows.push(['', `${proxy.httpUrl}/metrics`, `${proxy.httpUrl}/readyz`, `pid ${fleet.proxy(i)?.pid ?? '-'}`]);
  }
  for (let i = 0; i < config.shards; i += 1) {
    const shard = fleet.shard(i);
    const urls = fleet.shardGroup(i)?.urls.join(',');
    rows.push([`shard-${i}`, urls ?? '-', shard?.monitorUrl ?? '-', shard === undefined ? '' : logName(shard.logFile)]);
  }
  const redis = fleet.redis();
  rows.push(['redis', redis?.url ?? '-', '', redis === undefined ? '' : logName(redis.logFile)]);
  rows.push(['ring', logName(fleet.ringFile), `version ${fleet.ring().version}`, '']);

  const sub = fleet.proxyEndpoints[0];
  const pub = fleet.proxyEndpoints[Math.min(1, fleet.proxyEndpoints.length - 1)];
  const port = (url: string | undefined): string => (url === undefined ? '' : new URL(url).port);
  return [
    `Shoal fleet: ${config.proxies} proxies, ${config.shards} shards, state in ${logName(config.stateDir)}/`,
    '',
    table(rows),
    '',
    'Try it (subscriber on the first proxy, publisher on the last):',
    `  mosquitto_sub -h 127.0.0.1 -p ${port(sub?.mqttUrl)} -V mqttv5 -q 1 -t 'demo/#' -v`,
    `  mosquitto_pub -h 127.0.0.1 -p ${port(pub?.mqttUrl)} -V mqttv5 -q 1 -t demo/hello -m 'hi from Shoal'`,
    '',
    'Ctrl-C stops the fleet.',
  ].join('\n');
}

async function main(): Promise<void> {
  const config = fleetConfigFromEnv(process.env, process.cwd());
  console.log(`Starting Redis, ${config.shards} shards and ${config.proxies} proxies…`);
  const fleet = await startFleet(config);

  let stopping = false;
  let failed = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.log(`\n${signal} again: stopping anyway, please wait`);
      return;
    }
    stopping = true;
    console.log(`\n${signal}: stopping the proxies, then the shards and Redis…`);
    fleet.stop().then(
      () => {
        console.log('Stopped.');
        process.exitCode = failed ? 1 : 0;
      },
      (err: unknown) => {
        console.error('Stop failed:', err);
        process.exitCode = 1;
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // child-process.ts SIGKILLs every child on these signals as a safety net for tests; here the fleet is
    // stopped in order (proxies drain first), so that net is taken down. Its process 'exit' handler stays
    // and still kills anything left behind.
    for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
    process.on(signal, shutdown);
  }
  console.log(describe(fleet, config));

  // A process of the fleet that dies on its own ends `make up`: a fleet missing a member is misleading.
  const watched = [
    ...fleet.proxyEndpoints.map((_, i) => fleet.proxy(i)),
    ...Array.from({ length: config.shards }, (_, i) => fleet.shard(i)),
    fleet.redis(),
  ];
  for (const child of watched) {
    void child?.exited.then(() => {
      if (stopping) return;
      console.error(`A fleet process (pid ${child.pid}) exited unexpectedly; stopping the fleet.`);
      failed = true;
      shutdown('SIGTERM');
    });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});

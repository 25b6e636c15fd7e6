// `make chaos`: a fleet of 3 proxies and 2 clustered shards (3 nats-servers each, R3 streams) with Redis
// sessions, on free ports in a temporary directory; every fault of faults.ts repeated CHAOS_ROUNDS times
// (default 10) under QoS 1 load; prints one line per round and the table per fault. Exit status 1 when a fault
// that does not depend on offline replay lost an acknowledged message.
//   CHAOS_ROUNDS=10 CHAOS_TRAFFIC_MS=1500 CHAOS_SETTLE_MS=5000 CHAOS_FAULTS=redis,scale (substring match)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChaosFleet } from './chaos-fleet.js';
import { chaosTable, runChaos } from './chaos-run.js';
import { allFaults } from './faults.js';

function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  const value = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, got "${text ?? ''}"`);
  return value;
}

async function main(): Promise<void> {
  const rounds = envNumber('CHAOS_ROUNDS', 10);
  const trafficMs = envNumber('CHAOS_TRAFFIC_MS', 1_500);
  const settleMs = envNumber('CHAOS_SETTLE_MS', 5_000);
  const wanted = (process.env['CHAOS_FAULTS'] ?? '').split(',').filter((w) => w !== '');
  const faults = allFaults({ transitionMs: 2_000 }).filter((f) => wanted.length === 0 || wanted.some((w) => f.name.includes(w)));
  const stateDir = mkdtempSync(join(tmpdir(), 'shoal-chaos-'));
  console.log(`chaos: ${faults.length} faults × ${rounds} rounds; fleet of 3 proxies, 2 shards × 3 nats-servers (R3), Redis; state in ${stateDir}`);
  const fleet = await startChaosFleet(stateDir);
  try {
    const results = await runChaos(fleet, faults, {
      rounds,
      trafficMs,
      settleMs,
      publishers: 4,
      ratePerSecond: 50,
      onRound: (fault, n, r) =>
        console.log(
          `  ${fault.name} #${n + 1}: acknowledged ${r.acknowledged}, lost ${r.lost}, duplicated ${r.duplicated}, recovery ${r.recoveryMs} ms (fault ${r.faultMs} ms)`,
        ),
    });
    console.log(`\n${chaosTable(results)}`);
    const failed = results.filter((r) => !r.fault.needsReplay && r.rounds.some((round) => round.lost > 0));
    if (failed.length > 0) {
      console.log(`\nlost acknowledged messages in: ${failed.map((r) => r.fault.name).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await fleet.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

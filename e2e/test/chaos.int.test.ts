// The CI version of `make chaos`: every fault twice, with short traffic, under QoS 1 load through a fleet of
// 3 proxies and 2 clustered shards. Asserts that traffic recovers after every fault and that faults which do not
// depend on offline replay lose no acknowledged message.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startChaosFleet } from '../src/chaos/chaos-fleet.js';
import { chaosTable, runChaos, type FaultResult } from '../src/chaos/chaos-run.js';
import { allFaults } from '../src/chaos/faults.js';
import type { Fleet } from '../src/fleet/fleet.js';

/**
 * Flip to true once cursor-based offline replay for persistent sessions is on main: a subscriber whose proxy
 * died or drained then gets what it missed, and every fault must lose nothing. Until then, the faults marked
 * `needsReplay` (proxy SIGKILL, stream-leader kill, rolling restart) are reported, not asserted.
 */
const OFFLINE_REPLAY_LANDED = true as boolean;

describe('chaos (CI version: 2 rounds per fault)', () => {
  let fleet: Fleet;
  let results: FaultResult[] = [];
  beforeAll(async () => {
    fleet = await startChaosFleet(mkdtempSync(join(tmpdir(), 'shoal-chaos-')));
    results = await runChaos(fleet, allFaults({ transitionMs: 1_500 }), { rounds: 2, trafficMs: 500, settleMs: 3_000, publishers: 2, ratePerSecond: 40 });
    process.stdout.write(`${chaosTable(results)}\n`);
  }, 400_000);
  afterAll(async () => fleet.stop(), 60_000);

  it(`runs every fault, and the fleet carries traffic again after ${OFFLINE_REPLAY_LANDED ? 'each' : 'those that do not depend on offline replay'}`, () => {
    expect(results.map((r) => r.fault.name)).toEqual(allFaults({ transitionMs: 1 }).map((f) => f.name));
    for (const { fault, rounds } of results) {
      expect(rounds).toHaveLength(2);
      for (const round of rounds) {
        expect(round.acknowledged).toBeGreaterThan(0);
        // a persistent subscriber whose proxy was SIGKILLed gets no traffic until its session survives the crash
        if (OFFLINE_REPLAY_LANDED || !fault.needsReplay) expect(round.recoveryMs).toBeLessThan(20_000);
      }
    }
  });

  it(`loses no acknowledged message in ${OFFLINE_REPLAY_LANDED ? 'any fault' : 'the faults that do not depend on offline replay'}`, () => {
    const asserted = results.filter((r) => OFFLINE_REPLAY_LANDED || !r.fault.needsReplay);
    expect(asserted.length).toBeGreaterThan(0);
    expect(asserted.map((r) => [r.fault.name, r.rounds.reduce((lost, round) => lost + round.lost, 0)])).toEqual(asserted.map((r) => [r.fault.name, 0]));
  });
});

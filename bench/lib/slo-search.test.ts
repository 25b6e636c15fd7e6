// The rate search of pairs-qos1-slo: where it probes, and what it reports on a noisy machine.
import { describe, expect, it } from '@jest/globals';
import { highestMet, nextProbeRate, probeMet, type SloProbe } from './slo-search.js';

const probe = (ratePerSecond: number, met: boolean): SloProbe => ({ ratePerSecond, publishedPerSecond: ratePerSecond, pubackP99Ms: met ? 5 : 50, e2eP99Ms: undefined, met });

describe('the p99-bound rate search', () => {
  it('starts at half the full-speed rate and bisects towards the edge', () => {
    expect(nextProbeRate([], 60_000)).toBe(30_000);
    expect(nextProbeRate([probe(30_000, false)], 60_000)).toBe(15_000);
    expect(nextProbeRate([probe(30_000, false), probe(15_000, true)], 60_000)).toBe(22_500);
    expect(nextProbeRate([probe(30_000, true)], 60_000)).toBe(45_000);
  });

  it('reports the highest passing rate below the lowest failing one, so a lucky pass above a failure does not count', () => {
    const probes = [probe(30_000, false), probe(15_000, true), probe(22_500, true), probe(26_250, false)];
    expect(highestMet(probes, 60_000)).toBe(22_500);
    expect(highestMet([...probes, probe(40_000, true)], 60_000)).toBe(22_500);
    expect(highestMet([probe(30_000, false)], 60_000)).toBeUndefined();
  });

  it('counts a probe as met only within the bound and at 97 % of the rate asked', () => {
    expect(probeMet(10, 20_000, 20_000, 9.9)).toBe(true);
    expect(probeMet(10, 20_000, 20_000, 10.1)).toBe(false);
    expect(probeMet(10, 20_000, 19_000, 5)).toBe(false);
    expect(probeMet(10, 20_000, 20_000, undefined)).toBe(false);
  });
});

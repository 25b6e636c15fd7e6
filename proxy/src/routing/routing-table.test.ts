import { describe, expect, it } from '@jest/globals';
import { HashRing } from './hash-ring.js';
import { parseRingDocument, type RingDocument } from './ring-document.js';
import { RoutingTable } from './routing-table.js';

const shard = (id: string): { id: string; urls: string[] } => ({ id, urls: [`nats://${id}:4222`] });
const UNTIL = '2030-01-01T00:10:00Z';
const UNTIL_MS = Date.parse(UNTIL);

const oldRing = { version: 1, vnodes: 64, shards: ['s0', 's1', 's2'].map(shard) };
const steady: RingDocument = parseRingDocument(oldRing);
const growing: RingDocument = parseRingDocument({
  version: 2,
  vnodes: 64,
  shards: ['s0', 's1', 's2', 's3'].map(shard),
  previous: oldRing,
  transitionUntil: UNTIL,
});
const shrinking: RingDocument = parseRingDocument({
  version: 3,
  vnodes: 64,
  shards: ['s0', 's1'].map(shard),
  previous: { ...oldRing, version: 2 },
  transitionUntil: UNTIL,
});

const topics = Array.from({ length: 400 }, (_, i) => `devices/${String(i)}/telemetry`);
const ids = (shards: readonly { id: string }[]): string[] => shards.map((s) => s.id);

describe('RoutingTable', () => {
  it('routes a steady ring to one owner per topic', () => {
    const table = new RoutingTable(steady, UNTIL_MS);
    const ring = HashRing.build(steady);
    expect(table.version).toBe(1);
    expect(table.inTransition).toBe(false);
    expect(ids(table.allShards())).toEqual(['s0', 's1', 's2']);
    for (const t of topics) {
      expect(table.publishTarget(t)).toEqual(ring.ownerOf(t));
      expect(table.subscriptionTargets(t)).toEqual([ring.ownerOf(t)]);
    }
  });

  it.each([
    ['one millisecond before the deadline', UNTIL_MS - 1, true],
    ['at the deadline', UNTIL_MS, false],
    ['after the deadline', UNTIL_MS + 60_000, false],
  ])('is in transition %s: %s', (_name, nowMs, expected) => {
    expect(new RoutingTable(growing, nowMs).inTransition).toBe(expected);
  });

  it('during a transition publishes to the new owner and subscribes on both owners', () => {
    const table = new RoutingTable(growing, UNTIL_MS - 1);
    const next = HashRing.build(growing);
    const prev = HashRing.build(parseRingDocument(oldRing));
    let moved = 0;
    for (const t of topics) {
      expect(table.publishTarget(t).id).toBe(next.ownerOf(t).id);
      const expected = [...new Set([next.ownerOf(t).id, prev.ownerOf(t).id])];
      expect(ids(table.subscriptionTargets(t))).toEqual(expected);
      if (expected.length === 2) moved++;
    }
    expect(moved).toBeGreaterThan(0);
    expect(table.version).toBe(2);
  });

  it('after the deadline forgets the previous ring', () => {
    const table = new RoutingTable(shrinking, UNTIL_MS);
    expect(ids(table.allShards())).toEqual(['s0', 's1']);
    for (const t of topics) expect(table.subscriptionTargets(t)).toHaveLength(1);
  });

  it.each([
    ['growing', growing, ['s0', 's1', 's2', 's3']],
    ['shrinking', shrinking, ['s0', 's1', 's2']],
  ])('lists every shard of both rings once while %s', (_name, document, expected) => {
    expect(ids(new RoutingTable(document, 0).allShards())).toEqual(expected);
  });

  it('sends a wildcard filter to every shard of both rings, each once', () => {
    const table = new RoutingTable(shrinking, 0);
    expect(ids(table.subscriptionTargets('devices/+/telemetry'))).toEqual(['s0', 's1', 's2']);
    expect(ids(table.subscriptionTargets('#'))).toEqual(['s0', 's1', 's2']);
  });

  it('keeps the current ring’s spec of a shard that changed URLs', () => {
    const document = parseRingDocument({
      version: 2,
      shards: [{ id: 's0', urls: ['nats://new:4222'] }],
      previous: { version: 1, shards: [{ id: 's0', urls: ['nats://old:4222'] }] },
      transitionUntil: UNTIL,
    });
    const table = new RoutingTable(document, 0);
    expect(table.allShards()).toEqual([{ id: 's0', urls: ['nats://new:4222'], weight: 1 }]);
    expect(table.subscriptionTargets('a/b')).toEqual([{ id: 's0', urls: ['nats://new:4222'], weight: 1 }]);
  });
});

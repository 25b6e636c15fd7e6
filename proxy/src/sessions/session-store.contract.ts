// The contract every SessionStore keeps, as one jest suite: memory-session-store.test.ts runs it against the
// memory store, e2e/test/session-store.int.test.ts against the Redis store on a real redis-server. Everything is
// judged by the callers' clock (`nowMs`), so no test sleeps; the stored data's own lifetime (the Redis TTL) is
// asserted as a value. Each test gets a fresh fixture: two stores over the same data, as two proxies.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { expiryIndexContract } from './session-expiry.contract.js';
import { orphanedSessionsContract } from './session-orphans.contract.js';
import { CorruptSessionError, StaleSessionError } from './session-errors.js';
import { FIXTURE_OPTIONS, normalized, openOptions, PROXY_A, PROXY_B, rejection, sampleRecord, sampleWill, SUB_A, SUB_B, T0, type FixtureOptions } from './session-samples.js';
import { SESSION_NEVER_EXPIRES, type SessionStore } from './session-store.js';

export interface SessionStoreFixture {
  /** Two stores over the same data: proxy A's and proxy B's. */
  readonly stores: readonly [SessionStore, SessionStore];
  /** Makes a stored part of the session unreadable, as a foreign or damaged writer would. */
  corrupt(clientId: string, part: 'state' | 'will'): Promise<void>;
  /** How long the session's stored data lives on by itself (the TTL): ms, 'persistent', or 'absent'. */
  ttlMs(clientId: string): Promise<number | 'persistent' | 'absent'>;
  /** Closes both stores. */
  close(): Promise<void>;
}


export type { FixtureOptions };

export type SessionStoreFactory = (options: FixtureOptions) => Promise<SessionStoreFixture>;

/** Registers the contract suite for the store that `factory` builds. */
export function sessionStoreContract(name: string, factory: SessionStoreFactory): void {
  describe(`${name}: SessionStore contract`, () => {
    let fixture: SessionStoreFixture;
    let a: SessionStore;
    let b: SessionStore;
    beforeEach(async () => {
      fixture = await factory(FIXTURE_OPTIONS);
      [a, b] = fixture.stores;
    });
    afterEach(async () => fixture.close());

    it('open of an unknown client id: no record, an epoch from the caller clock, no previous owner', async () => {
      const opened = await a.open('dev-1', openOptions());
      expect(opened).toEqual({ epoch: T0, record: undefined });
    });

    it('open → save → open resumes the whole session (subscriptions, binary in-flight messages, QoS 2 flows, cursors)', async () => {
      const first = await a.open('dev-1', openOptions());
      const record = sampleRecord('dev-1');
      await a.save(record, first.epoch, T0 + 10);
      const resumed = await b.open('dev-1', openOptions({ proxyId: PROXY_B, nowMs: T0 + 20 }));
      expect(normalized(resumed.record)).toEqual(normalized(record));
      expect(resumed.previousOwner).toBeUndefined();
    });

    it('clean start discards the stored session', async () => {
      const first = await a.open('dev-1', openOptions());
      await a.save(sampleRecord('dev-1'), first.epoch, T0 + 10);
      const clean = await a.open('dev-1', openOptions({ cleanStart: true, nowMs: T0 + 20 }));
      expect(clean.record).toBeUndefined();
      // what is left is the new, empty session the clean start opened
      const again = await a.open('dev-1', openOptions({ nowMs: T0 + 30 }));
      const empty = { clientId: 'dev-1', protocolVersion: 5, expiryIntervalSeconds: 3_600, subscriptions: [], inflightOut: [], qos2In: [], cursors: {} };
      expect(again.record).toEqual(empty);
    });

    it('a session expires expiryIntervalSeconds after it was saved, judged by the caller clock', async () => {
      const first = await a.open('dev-1', openOptions());
      await a.save(sampleRecord('dev-1', { expiryIntervalSeconds: 60 }), first.epoch, T0 + 1_000);
      const inTime = await b.open('dev-1', openOptions({ nowMs: T0 + 1_000 + 59_999 }));
      expect(inTime.record?.expiryIntervalSeconds).toBe(60);
      await b.save(sampleRecord('dev-1', { expiryIntervalSeconds: 60 }), inTime.epoch, T0 + 100_000);
      const late = await a.open('dev-1', openOptions({ nowMs: T0 + 160_000 }));
      expect(late.record).toBeUndefined();
    });

    it('SESSION_NEVER_EXPIRES: the session is there a century later', async () => {
      const first = await a.open('dev-1', openOptions({ protocolVersion: 4, expiryIntervalSeconds: SESSION_NEVER_EXPIRES }));
      const record = sampleRecord('dev-1', { protocolVersion: 4, expiryIntervalSeconds: SESSION_NEVER_EXPIRES });
      await a.save(record, first.epoch, T0);
      const later = await b.open('dev-1', openOptions({ nowMs: T0 + 100 * 365 * 86_400_000 }));
      expect(normalized(later.record)).toEqual(normalized(record));
    });

    it('a record saved with expiryIntervalSeconds 0 ends the session', async () => {
      const first = await a.open('dev-1', openOptions({ expiryIntervalSeconds: 0 }));
      await a.save(sampleRecord('dev-1', { expiryIntervalSeconds: 0 }), first.epoch, T0);
      expect((await a.open('dev-1', openOptions({ nowMs: T0 + 1 }))).record).toBeUndefined();
    });

    it('the stored data has no TTL while connected; after save its expiry plus the grace; none when it never expires', async () => {
      const { expiryGraceMs } = FIXTURE_OPTIONS;
      const first = await a.open('dev-1', openOptions());
      expect(await fixture.ttlMs('dev-1')).toBe('persistent');
      await a.save(sampleRecord('dev-1', { expiryIntervalSeconds: 60 }), first.epoch, T0);
      const ttl = await fixture.ttlMs('dev-1');
      expect(ttl).toBeLessThanOrEqual(60_000 + expiryGraceMs);
      expect(ttl).toBeGreaterThan(60_000 + expiryGraceMs - 5_000);
      const second = await a.open('dev-1', openOptions({ nowMs: T0 + 1 }));
      expect(await fixture.ttlMs('dev-1')).toBe('persistent');
      await a.save(sampleRecord('dev-1', { expiryIntervalSeconds: SESSION_NEVER_EXPIRES }), second.epoch, T0 + 2);
      expect(await fixture.ttlMs('dev-1')).toBe('persistent');
    });

    it('every open takes a larger epoch: on the same millisecond, from a later clock, and right after a delete', async () => {
      const e1 = (await a.open('dev-1', openOptions())).epoch;
      const e2 = (await b.open('dev-1', openOptions({ proxyId: PROXY_B }))).epoch;
      expect(e2).toBe(e1 + 1);
      const e3 = (await a.open('dev-1', openOptions({ nowMs: T0 + 5_000 }))).epoch;
      expect(e3).toBe(T0 + 5_000);
      await a.delete('dev-1', e3);
      const e4 = (await a.open('dev-1', openOptions({ nowMs: T0 + 5_000 }))).epoch;
      expect(e4).toBe(e3 + 1);
    });

    it('a write with a stale epoch is rejected and leaves the newer session intact', async () => {
      const old = await a.open('dev-1', openOptions({ proxyId: PROXY_A }));
      const taken = await b.open('dev-1', openOptions({ proxyId: PROXY_B, nowMs: T0 + 1 }));
      expect(taken.epoch).toBeGreaterThan(old.epoch);
      expect(taken.previousOwner).toBe(PROXY_A);
      const newer = sampleRecord('dev-1', { cursors: { 'shard-0': 100 }, qos2In: [] });
      await b.save(newer, taken.epoch, T0 + 2);

      const staleWrites = [
        a.save(sampleRecord('dev-1', { subscriptions: [], cursors: {} }), old.epoch, T0 + 3),
        a.updateSubscriptions('dev-1', old.epoch, { remove: ['a/+/c'] }),
        a.updateCursors('dev-1', old.epoch, { 'shard-0': 1 }),
        a.scheduleWill('dev-1', old.epoch, T0 + 4, sampleWill(), T0),
        a.cancelWill('dev-1', old.epoch),
        a.delete('dev-1', old.epoch),
      ];
      for (const write of staleWrites) {
        const err = await rejection(write);
        expect(err).toBeInstanceOf(StaleSessionError);
        expect(err).toMatchObject({ clientId: 'dev-1', epoch: old.epoch, currentEpoch: taken.epoch });
      }
      expect(await a.claimDue(T0 + 10_000, 100)).toEqual([]); // the rejected will was not scheduled
      const resumed = await a.open('dev-1', openOptions({ nowMs: T0 + 5 }));
      expect(normalized(resumed.record)).toEqual(normalized(newer));
    });

    it('concurrent opens of one client id from two proxies get distinct epochs; only the latest can write', async () => {
      const opens = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).open('dev-1', openOptions({ proxyId: i % 2 === 0 ? PROXY_A : PROXY_B }))),
      );
      const epochs = opens.map((opened) => opened.epoch);
      expect(new Set(epochs).size).toBe(40);
      const latest = Math.max(...epochs);
      const saves = await Promise.allSettled(opens.map((opened, i) => (i % 2 === 0 ? a : b).save(sampleRecord('dev-1'), opened.epoch, T0 + 1)));
      const accepted = opens.filter((_, i) => saves[i]?.status === 'fulfilled').map((opened) => opened.epoch);
      expect(accepted).toEqual([latest]);
      for (const save of saves) if (save.status === 'rejected') expect(save.reason).toBeInstanceOf(StaleSessionError);
    });

    it('previousOwner names the proxy holding a live connection, and nobody once it saved', async () => {
      await a.open('dev-1', openOptions({ proxyId: PROXY_A }));
      const onB = await b.open('dev-1', openOptions({ proxyId: PROXY_B }));
      expect(onB.previousOwner).toBe(PROXY_A);
      await b.save(sampleRecord('dev-1'), onB.epoch, T0 + 1);
      expect((await a.open('dev-1', openOptions({ nowMs: T0 + 2 }))).previousOwner).toBeUndefined();
    });

    it('subscriptions and cursors written while connected are resumed after the owner died without saving', async () => {
      const opened = await a.open('dev-1', openOptions({ expiryIntervalSeconds: 120 }));
      await a.updateSubscriptions('dev-1', opened.epoch, { put: [SUB_A, SUB_B] });
      await a.updateSubscriptions('dev-1', opened.epoch, { remove: [SUB_A.topicFilter] });
      await a.updateCursors('dev-1', opened.epoch, { 'shard-0': 5, 'shard-2': 9 });
      await a.updateCursors('dev-1', opened.epoch, { 'shard-0': 6 });
      const resumed = await b.open('dev-1', openOptions({ proxyId: PROXY_B, nowMs: T0 + 1 }));
      expect(resumed.previousOwner).toBe(PROXY_A);
      expect(resumed.record).toEqual({
        clientId: 'dev-1',
        protocolVersion: 5,
        expiryIntervalSeconds: 120,
        subscriptions: [SUB_B],
        inflightOut: [],
        qos2In: [],
        cursors: { 'shard-0': 6, 'shard-2': 9 },
      });
    });

    it('an unreadable record is a CorruptSessionError (after the epoch was taken); a clean start gets past it', async () => {
      const first = await a.open('dev-1', openOptions());
      await a.save(sampleRecord('dev-1'), first.epoch, T0);
      await fixture.corrupt('dev-1', 'state');
      const err = await rejection(b.open('dev-1', openOptions({ nowMs: T0 + 1 })));
      expect(err).toBeInstanceOf(CorruptSessionError);
      expect(err).toMatchObject({ clientId: 'dev-1', part: 'state' });
      const clean = await b.open('dev-1', openOptions({ cleanStart: true, nowMs: T0 + 1 }));
      expect(clean.epoch).toBe(first.epoch + 2);
      expect(clean.record).toBeUndefined();
    });

    it('client ids that differ only in braces and percent signs are different sessions', async () => {
      const ids = ['}x', '%7Dx', '{x}', 'x'];
      for (const [i, id] of ids.entries()) {
        const opened = await a.open(id, openOptions());
        await a.save(sampleRecord(id, { cursors: { shard: i } }), opened.epoch, T0);
      }
      for (const [i, id] of ids.entries()) expect((await b.open(id, openOptions({ nowMs: T0 + 1 }))).record?.cursors).toEqual({ shard: i });
    });
  });

  expiryIndexContract(name, factory);
  orphanedSessionsContract(name, factory);
}

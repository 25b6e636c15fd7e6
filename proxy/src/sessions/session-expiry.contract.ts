// The expiry index half of the session store contract (session-store.contract.ts registers it): delayed wills
// and session expiry, claimed by exactly one caller, whichever proxy that is.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { SessionStoreFactory, SessionStoreFixture } from './session-store.contract.js';
import { CorruptSessionError, StaleSessionError } from './session-errors.js';
import { FIXTURE_OPTIONS, openOptions, PROXY_B, rejection, sampleRecord, sampleWill, T0 } from './session-samples.js';
import type { DueEntry, SessionStore } from './session-store.js';

const DELAY_MS = 30_000;

/** Claims with `store` until it gets nothing, `limit` at a time. */
async function claimAll(store: SessionStore, nowMs: number, limit: number): Promise<DueEntry[]> {
  const claimed: DueEntry[] = [];
  for (;;) {
    const batch = await store.claimDue(nowMs, limit);
    if (batch.length === 0) return claimed;
    claimed.push(...batch);
  }
}

export function expiryIndexContract(name: string, factory: SessionStoreFactory): void {
  describe(`${name}: SessionStore contract, expiry index`, () => {
    let fixture: SessionStoreFixture;
    let a: SessionStore;
    let b: SessionStore;
    beforeEach(async () => {
      fixture = await factory(FIXTURE_OPTIONS);
      [a, b] = fixture.stores;
    });
    afterEach(async () => fixture.close());

    /** dev-1 connected on proxy A, then gone at T0 leaving a will due DELAY_MS later; the epoch it had. */
    async function leftWithWill(clientId = 'dev-1'): Promise<number> {
      const { epoch } = await a.open(clientId, openOptions());
      await a.save(sampleRecord(clientId), epoch, T0);
      await a.scheduleWill(clientId, epoch, T0 + DELAY_MS, sampleWill(`will/${clientId}`), T0);
      return epoch;
    }

    it('a delayed will is claimed once when due, not before, by any proxy', async () => {
      const epoch = await leftWithWill();
      expect(await b.claimDue(T0 + DELAY_MS - 1, 100)).toEqual([]);
      expect(await b.claimDue(T0 + DELAY_MS, 100)).toEqual([
        { kind: 'will', clientId: 'dev-1', epoch, dueMs: T0 + DELAY_MS, will: sampleWill('will/dev-1') },
      ]);
      expect(await a.claimDue(T0 + DELAY_MS, 100)).toEqual([]);
    });

    it('a will scheduled again moves to its new due time', async () => {
      const epoch = await leftWithWill();
      await a.scheduleWill('dev-1', epoch, T0 + 2 * DELAY_MS, sampleWill('will/later'), T0);
      expect(await a.claimDue(T0 + DELAY_MS, 100)).toEqual([]);
      expect(await a.claimDue(T0 + 2 * DELAY_MS, 100)).toMatchObject([{ kind: 'will', will: sampleWill('will/later') }]);
    });

    it('a resumed session cancels its pending will [MQTT-3.1.3-9]', async () => {
      await leftWithWill();
      const resumed = await b.open('dev-1', openOptions({ proxyId: PROXY_B, nowMs: T0 + 1_000 }));
      expect(resumed.record).toBeDefined();
      expect(resumed.endedWill).toBeUndefined();
      expect(await b.claimDue(T0 + DELAY_MS, 100)).toEqual([]);
    });

    it('a clean start ends the session: open returns its pending will to publish now, and it is not claimed later', async () => {
      await leftWithWill();
      const clean = await b.open('dev-1', openOptions({ proxyId: PROXY_B, cleanStart: true, nowMs: T0 + 1_000 }));
      expect(clean.endedWill).toEqual(sampleWill('will/dev-1'));
      expect(await b.claimDue(T0 + DELAY_MS, 100)).toEqual([]);
    });

    it('cancelWill drops the pending will', async () => {
      const epoch = await leftWithWill();
      await a.cancelWill('dev-1', epoch);
      expect(await b.claimDue(T0 + DELAY_MS, 100)).toEqual([]);
    });

    it('a proxy whose session was taken over cannot leave a will', async () => {
      const old = await a.open('dev-1', openOptions());
      await b.open('dev-1', openOptions({ proxyId: PROXY_B, nowMs: T0 + 1 }));
      expect(await rejection(a.scheduleWill('dev-1', old.epoch, T0 + DELAY_MS, sampleWill(), T0))).toBeInstanceOf(StaleSessionError);
      expect(await a.claimDue(T0 + DELAY_MS, 100)).toEqual([]);
    });

    it('the will of a deleted session still fires when due', async () => {
      const epoch = await leftWithWill();
      await a.delete('dev-1', epoch);
      expect(await b.claimDue(T0 + DELAY_MS, 100)).toMatchObject([{ kind: 'will', clientId: 'dev-1', epoch }]);
    });

    it('an unreadable will is claimed as corrupt, with a CorruptSessionError', async () => {
      await leftWithWill();
      await fixture.corrupt('dev-1', 'will');
      const [entry] = await b.claimDue(T0 + DELAY_MS, 100);
      expect(entry).toMatchObject({ kind: 'corrupt', clientId: 'dev-1', dueMs: T0 + DELAY_MS });
      expect(entry?.kind === 'corrupt' ? entry.error : undefined).toBeInstanceOf(CorruptSessionError);
    });

    it('an expired session is claimed once, removed, and reported with its epoch', async () => {
      const { epoch } = await a.open('dev-1', openOptions());
      await a.save(sampleRecord('dev-1', { expiryIntervalSeconds: 60 }), epoch, T0);
      expect(await b.claimDue(T0 + 59_999, 100)).toEqual([]);
      expect(await b.claimDue(T0 + 60_000, 100)).toEqual([{ kind: 'session-expired', clientId: 'dev-1', epoch, dueMs: T0 + 60_000 }]);
      expect(await a.claimDue(T0 + 60_000, 100)).toEqual([]);
      expect(await rejection(a.updateCursors('dev-1', epoch, { shard: 1 }))).toBeInstanceOf(StaleSessionError);
      const next = await a.open('dev-1', openOptions({ nowMs: T0 + 60_001 }));
      expect(next.record).toBeUndefined();
      expect(next.epoch).toBeGreaterThan(epoch);
    });

    it('a session resumed before its expiry is not expired; saved again, it expires from the new save', async () => {
      const first = await a.open('dev-1', openOptions());
      await a.save(sampleRecord('dev-1', { expiryIntervalSeconds: 60 }), first.epoch, T0);
      const second = await b.open('dev-1', openOptions({ proxyId: PROXY_B, nowMs: T0 + 1_000 }));
      expect(await a.claimDue(T0 + 60_000, 100)).toEqual([]);
      await b.save(sampleRecord('dev-1', { expiryIntervalSeconds: 60 }), second.epoch, T0 + 30_000);
      expect(await a.claimDue(T0 + 60_000, 100)).toEqual([]);
      expect(await a.claimDue(T0 + 90_000, 100)).toMatchObject([{ kind: 'session-expired', epoch: second.epoch }]);
    });

    it('two claimers over 1,000 due entries: each entry is claimed exactly once', async () => {
      const ids = Array.from({ length: 1_000 }, (_, i) => `fleet-${i}`);
      for (let first = 0; first < ids.length; first += 100) {
        await Promise.all(
          ids.slice(first, first + 100).map(async (id, i) => {
            const store = i % 2 === 0 ? a : b;
            const { epoch } = await store.open(id, openOptions());
            await store.scheduleWill(id, epoch, T0 + (i % 50), sampleWill(`will/${id}`), T0);
          }),
        );
      }
      const [byA, byB] = await Promise.all([claimAll(a, T0 + 100, 37), claimAll(b, T0 + 100, 37)]);
      const claimed = [...byA, ...byB].map((entry) => entry.clientId);
      expect(claimed).toHaveLength(1_000);
      expect(new Set(claimed)).toEqual(new Set(ids));
      expect(byA.length).toBeGreaterThan(0);
      expect(byB.length).toBeGreaterThan(0);
    }, 30_000);
  });
}

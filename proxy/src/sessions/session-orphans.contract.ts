// The dead-proxy half of the session store contract (session-store.contract.ts registers it): proxies are known
// by their heartbeats; the sessions a dead proxy held connected are orphaned by whoever claims it, their armed
// wills fire after their delay and their expiry starts, as if the connection had closed when the proxy was claimed.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { SessionStoreFactory, SessionStoreFixture } from './session-store.contract.js';
import { FIXTURE_OPTIONS, openOptions, PROXY_A, PROXY_B, sampleWill, T0 } from './session-samples.js';
import type { SessionStore } from './session-store.js';

const LIVENESS_MS = 3_000;
const DELAY_MS = 2_000;

/** Orphans with `store` until nothing of `proxyId` is left. */
async function orphanAll(store: SessionStore, proxyId: string, nowMs: number): Promise<number> {
  let total = 0;
  for (let n = await store.orphanSessions(proxyId, nowMs, 7); n > 0; n = await store.orphanSessions(proxyId, nowMs, 7)) total += n;
  return total;
}

export function orphanedSessionsContract(name: string, factory: SessionStoreFactory): void {
  describe(`${name}: SessionStore contract, sessions of a dead proxy`, () => {
    let fixture: SessionStoreFixture;
    let a: SessionStore;
    let b: SessionStore;
    beforeEach(async () => {
      fixture = await factory(FIXTURE_OPTIONS);
      [a, b] = fixture.stores;
    });
    afterEach(async () => fixture.close());

    /** `clientId` connected on proxy A (session expiry `expirySeconds`) with an armed will; its epoch. */
    async function connectedWithWill(clientId: string, expirySeconds = 60): Promise<number> {
      const { epoch } = await a.open(clientId, openOptions({ expiryIntervalSeconds: expirySeconds }));
      await a.armWill(clientId, epoch, sampleWill(`will/${clientId}`), DELAY_MS);
      return epoch;
    }

    it('a proxy not heard from for the liveness bound is claimed once, by one proxy', async () => {
      expect(await a.heartbeat(PROXY_A, T0, LIVENESS_MS)).toEqual({ known: false, dead: [] });
      expect(await b.heartbeat(PROXY_B, T0 + LIVENESS_MS, LIVENESS_MS)).toEqual({ known: false, dead: [] });
      const [first, second] = await Promise.all([
        b.heartbeat(PROXY_B, T0 + LIVENESS_MS + 1, LIVENESS_MS),
        a.heartbeat('proxy-c', T0 + LIVENESS_MS + 1, LIVENESS_MS),
      ]);
      expect([...first.dead, ...second.dead]).toEqual([{ proxyId: PROXY_A, lastSeenMs: T0 }]);
      expect((await a.heartbeat(PROXY_A, T0 + LIVENESS_MS + 2, LIVENESS_MS)).known).toBe(false); // taken for dead
      expect((await b.heartbeat(PROXY_B, T0 + LIVENESS_MS + 2, LIVENESS_MS)).known).toBe(true);
    });

    it('an armed will is never due while its proxy lives; orphaned, it is due after its delay', async () => {
      const epoch = await connectedWithWill('dev-1');
      expect(await b.claimDue(T0 + 3_600_000, 100)).toEqual([]);
      expect(await orphanAll(b, PROXY_A, T0 + 10_000)).toBe(1);
      expect(await b.claimDue(T0 + 10_000 + DELAY_MS - 1, 100)).toEqual([]);
      expect(await b.claimDue(T0 + 10_000 + DELAY_MS, 100)).toEqual([
        { kind: 'will', clientId: 'dev-1', epoch, dueMs: T0 + 10_000 + DELAY_MS, will: sampleWill('will/dev-1') },
      ]);
    });

    it('an orphaned session expires from the orphaning, and can be resumed before', async () => {
      const epoch = await connectedWithWill('dev-1', 60);
      await connectedWithWill('dev-2', 60);
      await connectedWithWill('dev-0', 0);
      expect(await orphanAll(b, PROXY_A, T0 + 10_000)).toBe(3);
      expect(await orphanAll(b, PROXY_A, T0 + 10_000)).toBe(0);
      const resumed = await b.open('dev-2', openOptions({ proxyId: PROXY_B, nowMs: T0 + 20_000 }));
      expect(resumed.record).toBeDefined();
      expect(resumed.previousOwner).toBeUndefined(); // disconnected: no connection to take over
      const due = await b.claimDue(T0 + 70_000, 100);
      expect(due.filter((entry) => entry.kind === 'session-expired')).toEqual([{ kind: 'session-expired', clientId: 'dev-1', epoch, dueMs: T0 + 70_000 }]);
      expect(due.filter((entry) => entry.kind === 'will').map((entry) => entry.clientId).sort()).toEqual(['dev-0', 'dev-1']);
      expect((await b.open('dev-0', openOptions({ proxyId: PROXY_B, nowMs: T0 + 70_000 }))).record).toBeUndefined();
    });

    it('sessions the dead proxy no longer held are left alone: taken over, or closed normally', async () => {
      const taken = await connectedWithWill('dev-1');
      const taker = await b.open('dev-1', openOptions({ proxyId: PROXY_B, nowMs: T0 + 1 }));
      expect(taker.epoch).toBeGreaterThan(taken);
      const closed = await connectedWithWill('dev-2');
      await a.cancelWill('dev-2', closed);
      await a.delete('dev-2', closed);
      await orphanAll(b, PROXY_A, T0 + 10_000);
      expect(await b.claimDue(T0 + 3_600_000, 100)).toEqual([]);
      const again = await b.open('dev-1', openOptions({ proxyId: PROXY_B, nowMs: T0 + 20_000 }));
      expect(again.previousOwner).toBe(PROXY_B); // still connected through B: untouched
    });
  });
}

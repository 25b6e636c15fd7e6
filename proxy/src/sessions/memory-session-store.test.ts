import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { Clock } from '../clock.js';
import { MemorySessionData, MemorySessionStore } from './memory-session-store.js';
import { FIXTURE_OPTIONS, openOptions, sampleRecord, sampleWill, T0 } from './session-samples.js';
import { sessionStoreContract, type SessionStoreFixture } from './session-store.contract.js';

/** The store's own clock (what Redis's server clock is to the Redis store); the contract's callers pass theirs. */
class StepClock implements Clock {
  current = T0;
  now(): number {
    return this.current;
  }
}

sessionStoreContract('MemorySessionStore', (options): Promise<SessionStoreFixture> => {
  const clock = new StepClock();
  const data = new MemorySessionData();
  const stores = [new MemorySessionStore(clock, { data, ...options }), new MemorySessionStore(clock, { data, ...options })] as const;
  return Promise.resolve({
    stores,
    corrupt: (clientId, part) => {
      if (part === 'state') {
        const session = data.sessions.get(clientId);
        if (session !== undefined) session.state = '{"inflightOut":"not a list","qos2In":[]}';
      } else {
        const will = data.wills.get(clientId);
        if (will !== undefined) data.wills.set(clientId, { ...will, will: 'not json' });
      }
      return Promise.resolve();
    },
    ttlMs: (clientId) => {
      const session = data.sessions.get(clientId);
      const dropAtMs = session === undefined ? data.tombstones.get(clientId)?.dropAtMs : session.dropAtMs;
      if (session === undefined && dropAtMs === undefined) return Promise.resolve('absent');
      return Promise.resolve(dropAtMs === undefined ? 'persistent' : dropAtMs - clock.now());
    },
    close: async () => {
      await Promise.all(stores.map((store) => store.close()));
    },
  });
});

describe('MemorySessionStore: forgetting what Redis would let expire', () => {
  const clock = new StepClock();
  let store: MemorySessionStore;
  afterEach(async () => {
    jest.useRealTimers();
    await store.close();
  });

  it('the sweeper drops sessions, wills and tombstones whose lifetime ended, by the injected clock', async () => {
    jest.useFakeTimers();
    store = new MemorySessionStore(clock, { ...FIXTURE_OPTIONS, sweepIntervalMs: 1_000 });
    const kept = await store.open('kept', openOptions());
    await store.save(sampleRecord('kept', { expiryIntervalSeconds: 60 }), kept.epoch, T0);
    const gone = await store.open('gone', openOptions());
    await store.save(sampleRecord('gone', { expiryIntervalSeconds: 60 }), gone.epoch, T0);
    await store.scheduleWill('gone', gone.epoch, T0 + 1_000, sampleWill(), T0);
    const deleted = await store.open('deleted', openOptions());
    await store.delete('deleted', deleted.epoch);

    clock.current = T0 + FIXTURE_OPTIONS.tombstoneMs;
    jest.advanceTimersByTime(1_000);
    expect(store.data.tombstones.has('deleted')).toBe(false);
    expect(store.data.sessions.has('gone')).toBe(true);

    clock.current = T0 + 60_000 + FIXTURE_OPTIONS.expiryGraceMs;
    const resumed = await store.open('kept', openOptions({ nowMs: clock.current })); // connected: no lifetime
    jest.advanceTimersByTime(1_000);
    expect(store.data.sessions.has('gone')).toBe(false);
    expect(store.data.wills.has('gone')).toBe(false);
    expect(store.data.sessions.get('kept')?.epoch).toBe(resumed.epoch);
  });
});

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MemoryBackend } from '../backend/memory-backend.js';
import { silentLogger } from '../observability/logger.js';
import { ManualClock } from '../test-support/protocol-harness.js';
import { ExpiryPoller, willMessageId, type ExpiryMetrics } from './expiry-poller.js';
import { MemorySessionStore } from './memory-session-store.js';
import { openOptions, sampleRecord, sampleWill, T0 } from './session-samples.js';

class CountingMetrics implements ExpiryMetrics {
  readonly counts = { willFired: 0, willLost: 0, sessionExpired: 0, corruptEntry: 0, orphaned: 0 };
  willFired(): void {
    this.counts.willFired += 1;
  }
  willLost(): void {
    this.counts.willLost += 1;
  }
  sessionExpired(): void {
    this.counts.sessionExpired += 1;
  }
  corruptEntry(): void {
    this.counts.corruptEntry += 1;
  }
  sessionsOrphaned(count: number): void {
    this.counts.orphaned += count;
  }
}

const LIVENESS_MS = 3_000;

function pollerOf(proxyId: string, onTakenForDead?: () => void): ExpiryPoller {
  const options = { store, router: backend, clock, log: silentLogger(), metrics, intervalMs: 1_000, batchLimit: 2, publishAttempts: 2 };
  return new ExpiryPoller({ ...options, proxyId, livenessMs: LIVENESS_MS, ...(onTakenForDead === undefined ? {} : { onTakenForDead }) });
}

let clock: ManualClock;
let store: MemorySessionStore;
let backend: MemoryBackend;
let metrics: CountingMetrics;
let poller: ExpiryPoller;

beforeEach(() => {
  clock = new ManualClock(T0);
  store = new MemorySessionStore(clock);
  backend = new MemoryBackend();
  metrics = new CountingMetrics();
  poller = pollerOf('proxy-a');
});
afterEach(async () => {
  await poller.close();
  await store.close();
});

/** Opens `clientId`, leaves its session (expiry 60 s) and a will due in `delayMs`. */
async function leave(clientId: string, delayMs: number): Promise<number> {
  const { epoch } = await store.open(clientId, openOptions({ nowMs: clock.now() }));
  await store.save(sampleRecord(clientId, { expiryIntervalSeconds: 60 }), epoch, clock.now());
  await store.scheduleWill(clientId, epoch, clock.now() + delayMs, sampleWill(), clock.now());
  return epoch;
}

describe('ExpiryPoller', () => {
  it('publishes a due will once, with its QoS and retain, a fixed de-duplication id and its expiry from now', async () => {
    const epoch = await leave('dev', 2_000);
    await poller.poll();
    expect(backend.stored).toHaveLength(0); // not due yet
    clock.advance(2_000);
    await poller.poll();
    await poller.poll();
    const will = sampleWill();
    expect(backend.stored).toHaveLength(1);
    expect(backend.stored[0]).toMatchObject({ topic: will.message.topic, qos: will.message.qos, retain: will.message.retain });
    expect(backend.stored[0]?.expiresAtMs).toBe(clock.now() + 60_000); // sampleWill: Message Expiry Interval 60 s
    expect(metrics.counts.willFired).toBe(1);
    expect(willMessageId('dev', epoch)).toMatch(/^will\.[\w-]{22}\.[0-9a-z]+$/);
  });

  it('claims more than one batch in a poll, and counts expired sessions', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) await leave(id, 1_000);
    clock.advance(60_000);
    await poller.poll();
    expect(metrics.counts).toEqual({ willFired: 5, willLost: 0, sessionExpired: 5, corruptEntry: 0, orphaned: 0 });
    expect((await store.open('a', openOptions({ nowMs: clock.now() }))).record).toBeUndefined();
  });

  it('retries a will whose shard refused it at the next poll, then gives it up', async () => {
    await leave('dev', 1_000);
    clock.advance(1_000);
    backend.failure = new Error('shard down');
    await poller.poll();
    expect(metrics.counts.willLost).toBe(0);
    backend.failure = undefined;
    await poller.poll();
    expect(metrics.counts.willFired).toBe(1);
    expect(backend.stored).toHaveLength(1);

    await leave('other', 1_000);
    clock.advance(1_000);
    backend.failure = new Error('shard down');
    await poller.poll();
    await poller.poll();
    expect(metrics.counts.willLost).toBe(1);
  });

  it('counts a will that cannot be read back and publishes nothing', async () => {
    await leave('dev', 1_000);
    const pending = store.data.wills.get('dev');
    if (pending !== undefined) store.data.wills.set('dev', { ...pending, will: 'not json' });
    clock.advance(1_000);
    await poller.poll();
    expect(metrics.counts.corruptEntry).toBe(1);
    expect(backend.stored).toHaveLength(0);
  });

  it('runs a poll asked for while one is in progress once more, with the clock of then', async () => {
    await leave('dev', 1_000);
    const first = poller.poll(); // claims at T0: nothing due
    clock.advance(1_000);
    void poller.poll();
    await first;
    expect(metrics.counts.willFired).toBe(1);
  });

  it('publishes the armed will of a proxy that stopped polling, its delay after the proxy was last heard from', async () => {
    const other = pollerOf('proxy-b');
    await poller.poll(); // proxy-a registered
    const { epoch } = await store.open('dev', openOptions({ proxyId: 'proxy-a', nowMs: clock.now(), expiryIntervalSeconds: 60 }));
    await store.armWill('dev', epoch, sampleWill(), 5_000);
    clock.advance(LIVENESS_MS); // proxy-a stops polling here
    await other.poll();
    expect(metrics.counts.orphaned).toBe(0);
    clock.advance(1);
    await other.poll(); // proxy-a taken for dead: dev orphaned as of its last heartbeat (T0), its will due at T0 + 5 s
    expect(metrics.counts.orphaned).toBe(1);
    clock.advance(1_998);
    await other.poll();
    expect(backend.stored).toHaveLength(0);
    clock.advance(1);
    await other.poll();
    expect(backend.stored.map((m) => m.topic)).toEqual(['will/dev']);
    await other.close();
  });

  it('tells its proxy when the others took it for dead', async () => {
    let takenForDead = 0;
    const slow = pollerOf('proxy-slow', () => (takenForDead += 1));
    const other = pollerOf('proxy-b');
    await slow.poll();
    clock.advance(LIVENESS_MS + 1);
    await other.poll();
    await slow.poll();
    expect(takenForDead).toBe(1);
    await Promise.all([slow.close(), other.close()]);
  });

  it('orphans the sessions of its own previous life at start', async () => {
    const { epoch } = await store.open('dev', openOptions({ proxyId: 'proxy-a', nowMs: clock.now(), expiryIntervalSeconds: 60 }));
    await store.armWill('dev', epoch, sampleWill(), 0);
    const restarted = pollerOf('proxy-a');
    await restarted.start();
    await restarted.close();
    await poller.poll();
    expect(backend.stored.map((m) => m.topic)).toEqual(['will/dev']);
  });

  it('fireAll publishes every pending will at once, whatever its due time (a memory store ending with its proxy)', async () => {
    await leave('a', 3_600_000);
    await leave('b', 60_000);
    await poller.fireAll();
    expect(backend.stored.map((m) => m.topic)).toEqual(['will/dev', 'will/dev']);
    expect(metrics.counts.sessionExpired).toBe(2);
  });
});

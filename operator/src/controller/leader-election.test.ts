import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { KubeApiError } from '../kube/errors.js';
import { FakeKubeClient } from '../test-support/fake-kube-client.js';
import { LeaderElector, mayHold, microTime } from './leader-election.js';

const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'shoal-system', name: 'shoal-operator' };
const T0 = Date.parse('2030-01-01T00:00:00Z');

function elector(kube: FakeKubeClient, identity: string, clock: { now: () => number }): LeaderElector {
  return new LeaderElector({ kube, clock, log: pino({ level: 'silent' }), schedule: () => () => undefined, namespace: LEASE.namespace, name: LEASE.name, identity });
}

describe('mayHold', () => {
  it.each([
    ['nobody holds the lease', undefined, true],
    ['the holder released it', { holderIdentity: '' }, true],
    ['it holds the lease itself', { holderIdentity: 'a', renewTime: microTime(T0), leaseDurationSeconds: 15 }, true],
    ['another holder renewed recently', { holderIdentity: 'b', renewTime: microTime(T0 - 5_000), leaseDurationSeconds: 15 }, false],
    ['another holder let it expire', { holderIdentity: 'b', renewTime: microTime(T0 - 16_000), leaseDurationSeconds: 15 }, true],
  ])('candidate a may hold it when %s: %s', (_name, spec, expected) => {
    expect(mayHold(spec, 'a', T0)).toBe(expected);
  });
});

describe('LeaderElector', () => {
  it('creates the lease, renews it, and keeps a second candidate out until it expires', async () => {
    const kube = new FakeKubeClient();
    let now = T0;
    const clock = { now: () => now };
    const a = elector(kube, 'a', clock);
    const b = elector(kube, 'b', clock);
    await expect(a.tryAcquireOrRenew()).resolves.toBe(true);
    expect(kube.peek(LEASE)?.['spec']).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2030-01-01T00:00:00.000000Z',
      renewTime: '2030-01-01T00:00:00.000000Z',
      leaseTransitions: 0,
    });
    now += 5_000;
    await expect(b.tryAcquireOrRenew()).resolves.toBe(false);
    await expect(a.tryAcquireOrRenew()).resolves.toBe(true);
    now += 16_000;
    await expect(b.tryAcquireOrRenew()).resolves.toBe(true);
    expect(kube.peek(LEASE)?.['spec']).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('loses the race, without an error, when another candidate wrote the lease first', async () => {
    const kube = new FakeKubeClient();
    const a = elector(kube, 'a', { now: () => T0 });
    await a.tryAcquireOrRenew();
    const stale = kube.peek(LEASE)!;
    await kube.replace({ ...stale, spec: { holderIdentity: '' } });
    const b = elector(kube, 'b', { now: () => T0 });
    kube.failNext('replace', new KubeApiError(409, 'Conflict', 'the object has been modified'));
    await expect(b.tryAcquireOrRenew()).resolves.toBe(false);
  });

  it('releases the lease on close so a standby takes over at once', async () => {
    const kube = new FakeKubeClient();
    const a = elector(kube, 'a', { now: () => T0 });
    let started = 0;
    a.start({ onStarted: () => (started += 1), onStopped: () => undefined });
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toBe(1);
    expect(a.isLeader).toBe(true);
    await a.close();
    expect(kube.peek(LEASE)?.['spec']).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await expect(elector(kube, 'b', { now: () => T0 + 1 }).tryAcquireOrRenew()).resolves.toBe(true);
  });
});

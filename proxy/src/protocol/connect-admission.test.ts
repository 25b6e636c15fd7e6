import { describe, expect, it } from '@jest/globals';
import { ConnectAdmission, type AdmissionPermit } from './connect-admission.js';

describe('ConnectAdmission', () => {
  it('grants up to maxConcurrent at once, queues the next in FIFO order and refuses beyond maxWaiting', async () => {
    const states: [number, number][] = [];
    const admission = new ConnectAdmission(
      { maxConcurrent: 2, maxWaiting: 2, maxWaitMs: 10_000 },
      { admissionState: (a, w) => states.push([a, w]), admissionWaited: () => undefined },
    );
    const first = await admission.acquire();
    const second = await admission.acquire();
    const order: string[] = [];
    const third = admission.acquire().then((p) => (order.push('third'), p));
    const fourth = admission.acquire().then((p) => (order.push('fourth'), p));
    expect(await admission.acquire()).toBeUndefined(); // queue full: Server Busy
    expect([admission.running, admission.waiting]).toEqual([2, 2]);
    first?.release();
    first?.release(); // a second release is ignored
    expect((await third) === undefined).toBe(false);
    second?.release();
    const last = await fourth;
    expect(order).toEqual(['third', 'fourth']);
    expect([admission.running, admission.waiting]).toEqual([2, 0]);
    (await third)?.release();
    last?.release();
    expect(admission.running).toBe(0);
    expect(states.at(-1)).toEqual([0, 0]);
  });

  it('gives up on a waiter after maxWaitMs', async () => {
    const admission = new ConnectAdmission({ maxConcurrent: 1, maxWaiting: 10, maxWaitMs: 30 });
    const held: AdmissionPermit | undefined = await admission.acquire();
    expect(await admission.acquire()).toBeUndefined();
    expect(admission.waiting).toBe(0);
    held?.release();
    expect(admission.running).toBe(0);
  });
});

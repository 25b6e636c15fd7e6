import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { KubeObject } from '../kube/kube-object.js';
import { OperatorMetrics } from '../observability/metrics.js';
import { Controller, type WatchSource } from './controller.js';
import { clusterKey, ownerKeyOf } from './owner-key.js';
import { WorkQueue, type Schedule } from './work-queue.js';

const obj = (kind: string, name: string, owner?: string): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: {
    name,
    namespace: 'mqtt',
    ...(owner === undefined ? {} : { ownerReferences: [{ apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', name: owner, uid: 'u', controller: true }] }),
  },
});

/** A watch the test feeds by hand. */
class ManualSource implements WatchSource {
  private emit: ((o: KubeObject) => void) | undefined;
  constructor(
    readonly kind: string,
    readonly toKey: (o: KubeObject) => string | undefined,
  ) {}
  start(onObject: (o: KubeObject) => void): Promise<void> {
    this.emit = onObject;
    return Promise.resolve();
  }
  push(o: KubeObject): void {
    this.emit?.(o);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ownerKeyOf', () => {
  it('maps an owned object to its MqttCluster and ignores anything else', () => {
    expect(ownerKeyOf(obj('ConfigMap', 'demo-ring', 'demo'))).toBe('mqtt/demo');
    expect(ownerKeyOf(obj('ConfigMap', 'stray'))).toBeUndefined();
    expect(ownerKeyOf({ ...obj('Pod', 'p'), metadata: { name: 'p', namespace: 'mqtt', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }] } })).toBeUndefined();
    expect(clusterKey(obj('MqttCluster', 'demo'))).toBe('mqtt/demo');
  });
});

describe('Controller', () => {
  it('reconciles the owner key of every event, retries failures with backoff and honours requeueAfter', async () => {
    const delays: number[] = [];
    const schedule: Schedule = (_fn, ms) => {
      delays.push(ms);
      return () => undefined;
    };
    const queue = new WorkQueue({ schedule, baseDelayMs: 100 });
    const seen: string[] = [];
    let fail = true;
    const clusters = new ManualSource('MqttCluster', clusterKey);
    const configMaps = new ManualSource('ConfigMap', ownerKeyOf);
    const controller = new Controller({
      queue,
      sources: [clusters, configMaps],
      workers: 2,
      log: pino({ level: 'silent' }),
      metrics: new OperatorMetrics({ processMetrics: false }),
      reconcile: (key) => {
        seen.push(key);
        if (key === 'mqtt/b' && fail) {
          fail = false;
          return Promise.reject(new Error('transient'));
        }
        return Promise.resolve(key === 'mqtt/a' ? { requeueAfterMs: 5000 } : {});
      },
    });
    await controller.start();
    clusters.push(obj('MqttCluster', 'a'));
    configMaps.push(obj('ConfigMap', 'b-ring', 'b'));
    configMaps.push(obj('ConfigMap', 'stray'));
    await settle();
    await settle();
    expect(seen.sort()).toEqual(['mqtt/a', 'mqtt/b']);
    expect(delays.sort((x, y) => x - y)).toEqual([100, 5000]);
    await controller.close();
  });
});

import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { mqttCluster } from '../test-support/clusters.js';
import { FakeKubeClient } from '../test-support/fake-kube-client.js';
import { KubeEventRecorder } from './event-recorder.js';

describe('KubeEventRecorder', () => {
  it('writes a core/v1 Event on the cluster, and a repeated Warning only once', async () => {
    const kube = new FakeKubeClient();
    const recorder = new KubeEventRecorder({ kube, clock: { now: () => Date.parse('2030-01-01T00:00:00Z') }, log: pino({ level: 'silent' }), component: 'shoal-operator' });
    const cluster = mqttCluster();
    const warning = { type: 'Warning', reason: 'ApplyProxyFailed', message: 'etcd timed out' } as const;
    await recorder.record(cluster, warning);
    await recorder.record(cluster, warning);
    await recorder.record(cluster, { type: 'Normal', reason: 'RingPublished', message: 'Published ring version 1' });
    await recorder.record(cluster, warning);
    const events = kube.all('Event');
    expect(events.map((e) => `${String(e['type'])}/${String(e['reason'])}`)).toEqual(['Warning/ApplyProxyFailed', 'Normal/RingPublished', 'Warning/ApplyProxyFailed']);
    expect(events[0]).toMatchObject({
      metadata: { namespace: 'mqtt' },
      involvedObject: { apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', name: 'demo', namespace: 'mqtt', uid: 'uid-demo' },
      source: { component: 'shoal-operator' },
      firstTimestamp: '2030-01-01T00:00:00.000Z',
      count: 1,
    });
  });

  it('logs, and does not throw, when the Event cannot be written', async () => {
    const kube = new FakeKubeClient();
    kube.failNext('create', new Error('forbidden'));
    const recorder = new KubeEventRecorder({ kube, clock: { now: () => 0 }, log: pino({ level: 'silent' }), component: 'shoal-operator' });
    await expect(recorder.record(mqttCluster(), { type: 'Normal', reason: 'Created', message: 'x' })).resolves.toBeUndefined();
  });
});

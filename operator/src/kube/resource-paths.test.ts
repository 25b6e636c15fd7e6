import { describe, expect, it } from '@jest/globals';
import { collectionPath, objectPath } from './resource-paths.js';

describe('REST paths', () => {
  it.each([
    [{ apiVersion: 'v1', kind: 'ConfigMap' }, 'mqtt', '/api/v1/namespaces/mqtt/configmaps'],
    [{ apiVersion: 'apps/v1', kind: 'Deployment' }, '', '/apis/apps/v1/deployments'],
    [{ apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster' }, 'mqtt', '/apis/shoal.dev/v1alpha1/namespaces/mqtt/mqttclusters'],
  ])('%j in %j is %s', (type, namespace, path) => expect(collectionPath(type, namespace)).toBe(path));

  it('names one object', () => {
    expect(objectPath({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'shoal-system', name: 'shoal-operator' })).toBe(
      '/apis/coordination.k8s.io/v1/namespaces/shoal-system/leases/shoal-operator',
    );
  });

  it('refuses a kind it has no path for', () => {
    expect(() => collectionPath({ apiVersion: 'v1', kind: 'Secret' }, 'x')).toThrow(TypeError);
  });
});

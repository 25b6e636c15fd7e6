import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../kube/kube-object.js';
import { observeProxy, ownsReplicas } from './proxy.js';

const deployment = (managedFields: object[], extra: object = {}): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', generation: 4, managedFields }, ...extra });

describe('ownsReplicas', () => {
  it('is true only for an Apply by shoal-operator that lists spec.replicas', () => {
    expect(ownsReplicas(deployment([{ manager: 'shoal-operator', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]))).toBe(true);
    expect(ownsReplicas(deployment([{ manager: 'shoal-operator', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:template': {} } } }]))).toBe(false);
    expect(ownsReplicas(deployment([{ manager: 'kube-controller-manager', operation: 'Update', subresource: 'scale', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]))).toBe(false);
  });
});

describe('observeProxy', () => {
  it('reads the counts and whether the Deployment controller has seen the latest spec', () => {
    expect(observeProxy(deployment([], { spec: { replicas: 3 }, status: { observedGeneration: 3, replicas: 3, readyReplicas: 2, updatedReplicas: 1 } }))).toEqual({
      desired: 3,
      replicas: 3,
      readyReplicas: 2,
      updatedReplicas: 1,
      upToDate: false,
    });
  });
});

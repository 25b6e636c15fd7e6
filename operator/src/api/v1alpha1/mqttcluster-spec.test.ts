import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { load } from 'js-yaml';
import { InvalidSpecError, parseMqttClusterSpec } from './mqttcluster-spec.js';
import { durationToSeconds, quantityToBytes } from './quantity.js';

const repo = new URL('../../../../', import.meta.url);
/** Test data is read loosely (js-yaml's type). */
type Json = ReturnType<typeof JSON.parse>;

const readYaml = (path: string): Json => load(readFileSync(new URL(path, repo), 'utf8'));

interface Schema {
  type?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
}

/** The API server's structural defaulting: a default fills a missing field, then defaulting recurses into it. */
function applyDefaults(value: Json, schema: Schema): Json {
  if (schema.properties === undefined || typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [key, child] of Object.entries(schema.properties)) {
    if (out[key] === undefined && child.default !== undefined) out[key] = structuredClone(child.default);
    if (out[key] !== undefined) out[key] = applyDefaults(out[key], child);
  }
  return out;
}

const crd = readYaml('crds/shoal.dev_mqttclusters.yaml');
const specSchema: Schema = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;

describe('parseMqttClusterSpec', () => {
  it('resolves an empty spec to the documented defaults', () => {
    expect(parseMqttClusterSpec({})).toEqual({
      proxy: {
        replicas: 2,
        resources: { requests: { cpu: '500m', memory: '512Mi' } },
        autoscaling: { enabled: false, minReplicas: 2, maxReplicas: 10, targetConnectionsPerPod: 50_000 },
        service: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' },
        listeners: {
          mqtt: { enabled: true, port: 1883 },
          websocket: { enabled: false, port: 8083, path: '/mqtt' },
          tls: { enabled: false, port: 8883 },
        },
        drain: { notReadyDelaySeconds: 5, disconnectRatePerSecond: 1000, timeoutSeconds: 300 },
        maxUnavailable: 1,
        placement: {},
      },
      shards: { count: 3, replicas: 1, storage: { size: '10Gi' }, resources: { requests: { cpu: '500m', memory: '1Gi' } }, placement: {} },
      routing: { vnodes: 4096, shardKeyLevels: 0, transitionSeconds: 600 },
      sessions: {},
      retention: { offlineMaxAge: '24h', maxBytesPerShard: '1Gi' },
      monitoring: { serviceMonitor: { enabled: false, interval: '30s' } },
    });
  });

  it('gives the same defaults as the CRD, so a spec defaulted by the API server parses to itself', () => {
    const byServer = applyDefaults({}, specSchema);
    expect(parseMqttClusterSpec(byServer)).toEqual(parseMqttClusterSpec({}));
    expect(byServer).toEqual(JSON.parse(JSON.stringify(parseMqttClusterSpec({}))));
  });

  it.each([['crds/samples/mqttcluster-minimal.yaml'], ['crds/samples/mqttcluster-full.yaml']])('accepts the sample %s', (path) => {
    const sample = readYaml(path);
    expect(parseMqttClusterSpec(applyDefaults(sample.spec, specSchema))).toEqual(parseMqttClusterSpec(sample.spec));
  });

  it('turns integer quantities into strings', () => {
    expect(parseMqttClusterSpec({ retention: { maxBytesPerShard: 1048576 } }).retention.maxBytesPerShard).toBe('1048576');
  });

  it.each([
    ['a shard replica count other than 1 or 3', { shards: { replicas: 2 } }, /shards\.replicas/],
    ['minReplicas above maxReplicas', { proxy: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } }, /minReplicas must be <= maxReplicas/],
    ['every listener disabled', { proxy: { listeners: { mqtt: { enabled: false } } } }, /at least one listener/],
    ['TLS without a Secret', { proxy: { listeners: { tls: { enabled: true } } } }, /tls\.secretName is required/],
    ['source ranges on a ClusterIP Service', { proxy: { service: { type: 'ClusterIP', loadBalancerSourceRanges: ['10.0.0.0/8'] } } }, /needs type LoadBalancer/],
    ['Redis with both url and secretRef', { sessions: { redis: { url: 'redis://r', secretRef: { name: 's' } } } }, /exactly one of url and secretRef/],
    ['an unknown field', { proxy: { replica: 3 } }, /replica/],
    ['a malformed quantity', { shards: { storage: { size: 'ten gigs' } } }, /quantity/],
  ])('rejects %s', (_name, spec, message) => {
    expect(() => parseMqttClusterSpec(spec)).toThrow(InvalidSpecError);
    expect(() => parseMqttClusterSpec(spec)).toThrow(message);
  });
});

describe('quantities and durations', () => {
  it.each([
    ['1Gi', 1_073_741_824],
    ['512Mi', 536_870_912],
    ['1G', 1_000_000_000],
    ['1.5Ki', 1536],
    ['1048576', 1_048_576],
  ])('%s is %d bytes', (quantity, bytes) => expect(quantityToBytes(quantity)).toBe(bytes));

  it.each([
    ['30s', 30],
    ['90m', 5400],
    ['24h', 86_400],
    ['7d', 604_800],
    ['1h30m', 5400],
  ])('%s is %d seconds', (duration, seconds) => expect(durationToSeconds(duration)).toBe(seconds));

  it('refuses text that is not a quantity or a duration', () => {
    expect(() => quantityToBytes('lots')).toThrow(RangeError);
    expect(() => durationToSeconds('1 day')).toThrow(RangeError);
  });
});

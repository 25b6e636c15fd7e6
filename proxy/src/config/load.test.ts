import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../errors.js';
import { inClusterAccess, parseProxyConfig, resolveRingSource } from './load.js';

describe('parseProxyConfig', () => {
  it('applies the documented defaults to a minimal document', () => {
    const config = parseProxyConfig({ proxyId: 'p0', listeners: { mqtt: {} }, ring: { file: '/r.json' } });
    expect(config.listeners.mqtt).toEqual({ host: '0.0.0.0', port: 1883 });
    expect(config.limits.connectTimeoutMs).toBe(10_000);
    expect(config.sessions).toEqual({ store: 'memory' });
    expect(config.http.port).toBe(9100);
  });

  it('rejects unknown keys with a ConfigError naming them', () => {
    expect(() => parseProxyConfig({ proxyId: 'p0', listeners: {}, ring: { file: 'x' }, bogus: 1 })).toThrow(ConfigError);
    expect(() => parseProxyConfig({ proxyId: 'p0', listeners: {}, ring: { file: 'x' }, bogus: 1 })).toThrow(/bogus/);
  });
});

describe('the ring source', () => {
  const ringOf = (ring: unknown): unknown => parseProxyConfig({ proxyId: 'p0', listeners: {}, ring }).ring;

  it('is a file or a ConfigMap through the API server (key ring.json by default)', () => {
    expect(ringOf({ file: '/r.json' })).toEqual({ file: '/r.json' });
    expect(ringOf({ configMap: { name: 'demo-ring' } })).toEqual({ configMap: { name: 'demo-ring', key: 'ring.json' } });
    const full = {
      configMap: { namespace: 'mqtt', name: 'demo-ring', key: 'r.json' },
      apiServer: { url: 'https://127.0.0.1:6443', caFile: '/ca.crt', certFile: '/c.crt', keyFile: '/c.key' },
      fallbackFile: '/etc/shoal/ring/r.json',
    };
    expect(ringOf(full)).toEqual(full);
  });

  it.each([
    ['neither', {}, 'ring is either {"file": path} or {"configMap"'],
    ['both', { file: '/r.json', configMap: { name: 'x' } }, 'ring is either'],
    ['a ConfigMap without a name', { configMap: { name: '' } }, 'ring.configMap.name'],
    ['a non-HTTP API server', { configMap: { name: 'x' }, apiServer: { url: 'ftp://h' } }, 'ring.apiServer.url'],
    ['a certificate without its key', { configMap: { name: 'x' }, apiServer: { url: 'https://h', certFile: '/c' } }, 'certFile and keyFile go together'],
  ])('refuses %s with a readable ConfigError', (_name, ring, message) => {
    expect(() => ringOf(ring)).toThrow(ConfigError);
    expect(() => ringOf(ring)).toThrow(message);
  });
});

describe('resolveRingSource and inClusterAccess', () => {
  const inCluster = { apiServer: { url: 'https://10.0.0.1:443', tokenFile: '/t', caFile: '/ca' }, namespace: 'mqtt' };
  const configMap = { configMap: { name: 'demo-ring', key: 'ring.json' } };

  it('leaves a file source and a complete ConfigMap source alone', () => {
    expect(resolveRingSource({ file: '/r.json' }, inCluster)).toEqual({ file: '/r.json' });
    const complete = { configMap: { namespace: 'a', name: 'r', key: 'k' }, apiServer: { url: 'https://h:1' } };
    expect(resolveRingSource(complete, inCluster)).toEqual(complete);
  });

  it("fills in the pod's API server and namespace", () => {
    expect(resolveRingSource({ ...configMap, fallbackFile: '/f' }, inCluster)).toEqual({
      configMap: { namespace: 'mqtt', name: 'demo-ring', key: 'ring.json' },
      apiServer: inCluster.apiServer,
      fallbackFile: '/f',
    });
  });

  it('follows the fallback file when the pod has no API credentials, and refuses without one', () => {
    expect(resolveRingSource({ ...configMap, fallbackFile: '/etc/shoal/ring/ring.json' }, undefined)).toEqual({ file: '/etc/shoal/ring/ring.json' });
    expect(() => resolveRingSource(configMap, undefined)).toThrow(ConfigError);
    expect(() => resolveRingSource({ ...configMap, apiServer: { url: 'https://h:1' } }, undefined)).toThrow('ring.configMap.namespace is required');
  });

  it('reads the in-cluster access from KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount mount', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-sa-'));
    try {
      const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
      expect(inClusterAccess(env, dir)).toBeUndefined(); // no token mounted
      writeFileSync(join(dir, 'token'), 'jwt');
      expect(inClusterAccess({}, dir)).toBeUndefined(); // not in a pod
      expect(inClusterAccess(env, dir)).toEqual({ apiServer: { url: 'https://10.96.0.1:443', tokenFile: join(dir, 'token') } });
      writeFileSync(join(dir, 'ca.crt'), 'pem');
      writeFileSync(join(dir, 'namespace'), 'mqtt\n');
      expect(inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir)).toEqual({
        apiServer: { url: 'https://[fd00::1]:443', tokenFile: join(dir, 'token'), caFile: join(dir, 'ca.crt') },
        namespace: 'mqtt',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

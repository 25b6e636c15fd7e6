import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../errors.js';
import { parseProxyConfig } from './load.js';

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

import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../errors.js';
import { parseProxyConfig } from './load.js';

const base = { proxyId: 'p0', listeners: {}, ring: { file: '/r.json' } };

describe('sessions configuration', () => {
  it('accepts the Redis store with its options', () => {
    const config = parseProxyConfig({ ...base, sessions: { store: 'redis', url: 'redis://127.0.0.1:6379', commandTimeoutMs: 500, expiryBuckets: 8 } });
    expect(config.sessions).toEqual({ store: 'redis', url: 'redis://127.0.0.1:6379', commandTimeoutMs: 500, expiryBuckets: 8 });
  });

  it('refuses a Redis store without a redis:// URL, and unknown keys', () => {
    expect(() => parseProxyConfig({ ...base, sessions: { store: 'redis' } })).toThrow(ConfigError);
    expect(() => parseProxyConfig({ ...base, sessions: { store: 'redis', url: 'http://x' } })).toThrow(ConfigError);
    expect(() => parseProxyConfig({ ...base, sessions: { store: 'memory', url: 'redis://x' } })).toThrow(ConfigError);
    expect(() => parseProxyConfig({ ...base, sessions: { store: 'redis', url: 'redis://x', commandTimeoutMs: 0 } })).toThrow(ConfigError);
  });
});

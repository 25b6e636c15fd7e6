// The TLS part of the listeners' configuration (proxy/src/config/schema.ts).
import { describe, expect, it } from '@jest/globals';
import { ProxyConfig } from '../config/schema.js';

const base = { proxyId: 'p', ring: { file: '/ring.json' } };
const files = { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' };

describe('TLS listener configuration', () => {
  it('defaults to port 8883, TLS 1.2, no client certificate and a 10 s handshake', () => {
    const config = ProxyConfig.parse({ ...base, listeners: { tls: files, websocket: { tls: files } } });
    const defaults = { ...files, requireClientCert: false, minVersion: 'TLSv1.2', handshakeTimeoutMs: 10_000 };
    expect(config.listeners.tls).toEqual({ host: '0.0.0.0', port: 8883, ...defaults });
    expect(config.listeners.websocket?.tls).toEqual(defaults);
  });

  it('refuses requireClientCert without caFile, unknown versions and unknown keys', () => {
    for (const tls of [
      { ...files, requireClientCert: true },
      { ...files, minVersion: 'TLSv1.1' },
      { ...files, ciphers: 'NULL' },
      { certFile: '/tls/tls.crt' },
    ]) {
      expect(ProxyConfig.safeParse({ ...base, listeners: { tls } }).success).toBe(false);
      expect(ProxyConfig.safeParse({ ...base, listeners: { websocket: { tls } } }).success).toBe(false);
    }
    expect(ProxyConfig.safeParse({ ...base, listeners: { tls: { ...files, caFile: '/ca.crt', requireClientCert: true } } }).success).toBe(true);
  });
});

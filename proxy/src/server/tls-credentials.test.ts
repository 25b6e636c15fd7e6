// TlsCredentials against real PEM files in a temporary directory (generated once with the openssl CLI).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlsCredentials, TlsCredentialsError, type TlsContextOptions } from './tls-credentials.js';
import { handshakeFailureReason, parseSubjectAltNames } from './tls-listener.js';

const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'];

/** A self-signed CA, then `names` leaf certificates it signs (`<name>.crt`, `<name>.key`). */
function generate(dir: string, names: readonly string[]): void {
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(['req', '-x509', ...P256, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Shoal Test CA', '-addext', 'basicConstraints=critical,CA:TRUE']);
  for (const name of names) {
    openssl(['req', '-x509', ...P256, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-CA', 'ca.crt', '-CAkey', 'ca.key']);
  }
}

const fingerprint = (pem: unknown): string => new X509Certificate(pem as Buffer).fingerprint256;

interface Logged {
  level: 'info' | 'warn' | 'error';
  message: string;
}

describe('TlsCredentials', () => {
  let certs: string;
  let dir: string;
  const logged: Logged[] = [];
  const log = {
    info: (_fields: object, message: string): void => void logged.push({ level: 'info', message }),
    warn: (_fields: object, message: string): void => void logged.push({ level: 'warn', message }),
    error: (_fields: object, message: string): void => void logged.push({ level: 'error', message }),
  };
  const settings = (): { certFile: string; keyFile: string; caFile: string; minVersion: 'TLSv1.2' } => ({
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    caFile: join(dir, 'ca.crt'),
    minVersion: 'TLSv1.2',
  });
  /** Installs leaf `name` as tls.crt / tls.key (each file replaced atomically, as a Secret update does). */
  const install = (name: string): void => {
    for (const [from, to] of [
      [`${name}.crt`, 'tls.crt'],
      [`${name}.key`, 'tls.key'],
    ] as const) {
      copyFileSync(join(certs, from), join(dir, `.${to}.tmp`));
      renameSync(join(dir, `.${to}.tmp`), join(dir, to));
    }
  };

  beforeAll(() => {
    certs = mkdtempSync(join(tmpdir(), 'shoal-certs-'));
    generate(certs, ['first', 'second']);
    dir = mkdtempSync(join(tmpdir(), 'shoal-tls-'));
    copyFileSync(join(certs, 'ca.crt'), join(dir, 'ca.crt'));
  }, 30_000);
  afterAll(() => {
    rmSync(certs, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the files, then hands a replaced certificate to subscribers when the files change', async () => {
    install('first');
    const credentials = await TlsCredentials.load({ settings: settings(), log, settleMs: 20, pollIntervalMs: 60_000 });
    try {
      expect(fingerprint(credentials.current.cert)).toBe(fingerprint(readFileSync(join(certs, 'first.crt'))));
      expect(credentials.current.minVersion).toBe('TLSv1.2');
      const changed = new Promise<TlsContextOptions>((resolve) => credentials.onChange(resolve));
      install('second');
      const next = await changed; // from the directory watch, not a poll
      expect(fingerprint(next.cert)).toBe(fingerprint(readFileSync(join(certs, 'second.crt'))));
      expect(credentials.current).toBe(next);
      expect(await credentials.reload()).toBe(false); // same files: nothing to apply
    } finally {
      credentials.close();
    }
  });

  it('keeps the certificate in use when the new key does not match it, and applies the pair once it does', async () => {
    install('first');
    const credentials = await TlsCredentials.load({ settings: settings(), log, settleMs: 60_000, pollIntervalMs: 60_000 });
    try {
      const applied: TlsContextOptions[] = [];
      credentials.onChange((context) => applied.push(context));
      logged.length = 0;
      copyFileSync(join(certs, 'second.crt'), join(dir, 'tls.crt')); // the certificate first, the key still the old one
      expect(await credentials.reload()).toBe(false);
      expect(logged).toContainEqual({ level: 'error', message: 'invalid TLS certificate or key ignored; keeping the current one' });
      expect(fingerprint(credentials.current.cert)).toBe(fingerprint(readFileSync(join(certs, 'first.crt'))));
      writeFileSync(join(dir, 'tls.key'), 'not a key');
      expect(await credentials.reload()).toBe(false);
      copyFileSync(join(certs, 'second.key'), join(dir, 'tls.key'));
      expect(await credentials.reload()).toBe(true);
      expect(applied.map((c) => fingerprint(c.cert))).toEqual([fingerprint(readFileSync(join(certs, 'second.crt')))]);
    } finally {
      credentials.close();
    }
  });

  it('keeps the certificate in use when a file disappears', async () => {
    install('first');
    const credentials = await TlsCredentials.load({ settings: settings(), log, settleMs: 60_000, pollIntervalMs: 60_000 });
    try {
      rmSync(join(dir, 'tls.key'));
      expect(await credentials.reload()).toBe(false);
      expect(fingerprint(credentials.current.cert)).toBe(fingerprint(readFileSync(join(certs, 'first.crt'))));
    } finally {
      credentials.close();
    }
  });

  it('refuses to start from files that do not hold a matching certificate and key', async () => {
    copyFileSync(join(certs, 'first.crt'), join(dir, 'tls.crt'));
    copyFileSync(join(certs, 'second.key'), join(dir, 'tls.key'));
    await expect(TlsCredentials.load({ settings: settings(), log })).rejects.toBeInstanceOf(TlsCredentialsError);
    await expect(TlsCredentials.load({ settings: { ...settings(), certFile: join(dir, 'absent.crt') }, log })).rejects.toBeInstanceOf(
      TlsCredentialsError,
    );
  });
});

describe('client certificate identity', () => {
  it('splits the subject alternative names Node prints, unquoting quoted values', () => {
    expect(parseSubjectAltNames(undefined)).toEqual([]);
    expect(parseSubjectAltNames('DNS:device-7.example, IP Address:10.0.0.1, URI:spiffe://shoal/device-7')).toEqual([
      'DNS:device-7.example',
      'IP Address:10.0.0.1',
      'URI:spiffe://shoal/device-7',
    ]);
    expect(parseSubjectAltNames('DNS:a, email:"x, y@example.com", DNS:b')).toEqual(['DNS:a', 'email:x, y@example.com', 'DNS:b']);
  });

  it('labels handshake failures by their code only', () => {
    expect(handshakeFailureReason(Object.assign(new Error('x'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' }))).toBe('timeout');
    expect(handshakeFailureReason(Object.assign(new Error('x'), { code: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' }))).toBe(
      'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
    );
    expect(handshakeFailureReason(new Error('no code'))).toBe('other');
  });
});

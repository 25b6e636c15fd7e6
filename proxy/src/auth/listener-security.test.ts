import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSecretKey, randomBytes } from 'node:crypto';
import { silentLogger } from '../observability/logger.js';
import { signJwt } from './jwt-sign.js';
import { ListenerSecurity } from './listener-security.js';
import { hashPassword } from './password-hash.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-chain-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Replaces a file atomically, as a Secret or ConfigMap update does. */
const replace = (file: string, text: string): void => {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
};
const credentials = (username: string | undefined, password?: string) => ({
  clientId: 'c1',
  username,
  password: password === undefined ? undefined : Buffer.from(password),
  peer: undefined,
});

async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('not within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('ListenerSecurity', () => {
  it('follows the users file: a user added to the file can connect without a restart; a broken file keeps the old one', async () => {
    const users = join(dir, 'users');
    writeFileSync(users, `alice:${await hashPassword('a-pw', 'pbkdf2-sha256', { iterations: 1_000 })}\n`);
    const security = await ListenerSecurity.load({ authenticators: [{ type: 'password-file', file: users }] }, silentLogger());
    try {
      expect(await security.authenticate(credentials('bob', 'b-pw'), 0)).toMatchObject({ ok: false, refusal: 'bad-credentials', reason: 'no-match' });
      replace(users, `alice:${await hashPassword('a-pw', 'pbkdf2-sha256', { iterations: 1_000 })}\nbob:${await hashPassword('b-pw', 'pbkdf2-sha256', { iterations: 1_000 })}\n`);
      await eventually(async () => (await security.authenticate(credentials('bob', 'b-pw'), 0)).ok);
      replace(users, 'bob:not-a-hash\n');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await security.authenticate(credentials('bob', 'b-pw'), 0)).ok).toBe(true);
      expect(await security.authenticate(credentials('alice', 'wrong'), 0)).toMatchObject({ ok: false, reason: 'bad-password' });
    } finally {
      security.close();
    }
  });

  it('anonymous clients get the ACL of the chain and of the ACL file, which is followed too', async () => {
    const aclFile = join(dir, 'acl.json');
    writeFileSync(aclFile, JSON.stringify([{ permission: 'allow', action: 'publish', topic: 'public/%c' }]));
    const security = await ListenerSecurity.load(
      { authenticators: [{ type: 'anonymous' }], acl: [{ permission: 'deny', action: 'all', topic: 'public/admin' }], aclFile },
      silentLogger(),
    );
    try {
      const access = async () => {
        const decision = await security.authenticate(credentials(undefined), 0);
        if (!decision.ok) throw new Error('refused');
        return decision.access;
      };
      expect((await access()).mayPublish('public/c1')).toBe(true);
      expect((await access()).mayPublish('other/c1')).toBe(false);
      replace(aclFile, JSON.stringify([{ permission: 'allow', action: 'all', topic: '#' }]));
      await eventually(async () => (await access()).mayPublish('other/c1'));
      expect((await access()).mayPublish('public/admin')).toBe(false); // the chain's own rules come first
    } finally {
      security.close();
    }
  });

  it('takes the username from a verified client certificate (CN or a SAN) and uses it for %u', async () => {
    const peer = { commonName: 'device-7', subjectAltNames: ['DNS:device-7.devices.example', 'URI:spiffe://shoal.test/device-7'] };
    const acl = [{ permission: 'allow' as const, action: 'all' as const, topic: 'things/%u/#' }];
    for (const [usernameFrom, username] of [['cn', 'device-7'], ['san-dns', 'device-7.devices.example']] as const) {
      const security = await ListenerSecurity.load({ authenticators: [{ type: 'client-certificate', usernameFrom }], acl }, silentLogger());
      try {
        const decision = await security.authenticate({ ...credentials('claimed-name'), peer }, 0);
        expect(decision).toMatchObject({ ok: true, username });
        if (decision.ok) expect(decision.access.mayPublish(`things/${username}/t`)).toBe(true);
        // without a verified certificate the authenticator ignores the client, and nothing else accepts it
        expect(await security.authenticate(credentials('claimed-name'), 0)).toMatchObject({ ok: false, refusal: 'bad-credentials' });
      } finally {
        security.close();
      }
    }
  });

  it('gives a JWT client the username of usernameClaim only: the CONNECT username is not signed and fills no %u', async () => {
    const secret = createSecretKey(randomBytes(32));
    const jwksFile = join(dir, 'hs.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ kty: 'oct', k: secret.export().toString('base64url') }] }));
    const acl = [{ permission: 'allow' as const, action: 'all' as const, topic: 'users/%u/#' }];
    const token = signJwt({ sub: 'bob', exp: 2_000_000_000 }, 'HS256', secret);
    const jwt = { type: 'jwt' as const, jwksFile, algorithms: ['HS256' as const], clockSkewSeconds: 30, aclClaim: 'acl' };
    for (const [usernameClaim, allowed] of [[undefined, []], ['sub', ['users/bob/x']]] as const) {
      const settings = usernameClaim === undefined ? jwt : { ...jwt, usernameClaim };
      const security = await ListenerSecurity.load({ authenticators: [settings], acl }, silentLogger());
      try {
        const decision = await security.authenticate(credentials('alice', token), 1_900_000_000_000);
        if (!decision.ok) throw new Error('refused');
        expect(['users/alice/x', 'users/bob/x'].filter((t) => decision.access.mayPublish(t))).toEqual(allowed);
      } finally {
        security.close();
      }
    }
  });

  it('refuses to start with a missing or invalid file', async () => {
    await expect(ListenerSecurity.load({ authenticators: [{ type: 'password-file', file: join(dir, 'none') }] }, silentLogger())).rejects.toThrow();
    const bad = join(dir, 'bad-jwks.json');
    writeFileSync(bad, '{"keys": []}');
    const jwt = { type: 'jwt' as const, jwksFile: bad, algorithms: ['ES256' as const], clockSkewSeconds: 30, aclClaim: 'acl' };
    await expect(ListenerSecurity.load({ authenticators: [jwt] }, silentLogger())).rejects.toThrow(/no "keys"/);
  });
});

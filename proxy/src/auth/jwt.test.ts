import { createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { JWT_ALGORITHMS, JwksError, parseJwks, type JwtAlgorithm } from './jwks.js';
import { signJwt } from './jwt-sign.js';
import { JwtError, looksLikeJwt, verifyJwt, type JwtCheck } from './jwt.js';

const NOW = 1_800_000_000_000;
const nowSeconds = NOW / 1000;

/** One key per family, with the private half to sign and the JWK to publish. */
function keyFor(alg: JwtAlgorithm): { sign: KeyObject; jwk: Record<string, unknown> } {
  if (alg.startsWith('HS')) {
    const secret = createSecretKey(randomBytes(64));
    return { sign: secret, jwk: { kty: 'oct', k: secret.export().toString('base64url') } };
  }
  const pair = alg.startsWith('RS')
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg as 'ES256'] });
  return { sign: pair.privateKey, jwk: pair.publicKey.export({ format: 'jwk' }) };
}

const keys = new Map(JWT_ALGORITHMS.map((alg) => [alg, keyFor(alg)]));
const jwks = parseJwks(JSON.stringify({ keys: JWT_ALGORITHMS.map((alg) => ({ ...keys.get(alg)?.jwk, kid: alg })) }));
const check: JwtCheck = { algorithms: new Set(JWT_ALGORITHMS), issuer: 'https://issuer.test', audience: 'shoal', clockSkewSeconds: 30, nowMs: NOW };
const goodClaims = { sub: 'device-1', iss: 'https://issuer.test', aud: ['other', 'shoal'], exp: nowSeconds + 600, nbf: nowSeconds - 10 };
/** A token signed with the key of `alg`; kid null: no kid in the header. */
const token = (claims: Record<string, unknown> = goodClaims, alg: JwtAlgorithm = 'ES256', kid: string | null = alg): string =>
  signJwt(claims, alg, keys.get(alg)?.sign ?? createSecretKey(randomBytes(32)), kid ?? undefined);

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof JwtError) return err.reason;
    throw err;
  }
  return 'accepted';
}

describe('JWT verification', () => {
  it.each(JWT_ALGORITHMS)('accepts a good %s token and returns its claims', (alg) => {
    expect(verifyJwt(token(goodClaims, alg), jwks, check)).toMatchObject({ sub: 'device-1' });
  });

  it.each([
    ['expired', { ...goodClaims, exp: nowSeconds - 31 }, 'expired'],
    ['without exp', { ...goodClaims, exp: undefined }, 'expired'],
    ['not yet valid', { ...goodClaims, nbf: nowSeconds + 31 }, 'not-yet-valid'],
    ['from another issuer', { ...goodClaims, iss: 'https://evil.test' }, 'issuer'],
    ['for another audience', { ...goodClaims, aud: 'other' }, 'audience'],
    ['without an audience', { ...goodClaims, aud: undefined }, 'audience'],
  ])('refuses a token %s', (_what, claims, reason) => {
    expect(reasonOf(() => verifyJwt(token(claims), jwks, check))).toBe(reason);
  });

  it('tolerates the clock skew on exp and nbf', () => {
    expect(reasonOf(() => verifyJwt(token({ ...goodClaims, exp: nowSeconds - 29, nbf: nowSeconds + 29 }), jwks, check))).toBe('accepted');
  });

  it('refuses a tampered payload and a tampered signature', () => {
    const [header, , signature] = token().split('.');
    const forged = Buffer.from(JSON.stringify({ ...goodClaims, sub: 'admin' })).toString('base64url');
    expect(reasonOf(() => verifyJwt(`${header}.${forged}.${signature}`, jwks, check))).toBe('signature');
    const flipped = token().slice(0, -2) + (token().endsWith('AA') ? 'BA' : 'AA');
    expect(reasonOf(() => verifyJwt(flipped, jwks, check))).toBe('signature');
  });

  it('refuses alg none, with or without a signature', () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: 'ES256' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(goodClaims)).toString('base64url');
    expect(looksLikeJwt(`${header}.${payload}.`)).toBe(false);
    expect(reasonOf(() => verifyJwt(`${header}.${payload}.`, jwks, check))).toBe('malformed');
    expect(reasonOf(() => verifyJwt(`${header}.${payload}.c2ln`, jwks, check))).toBe('algorithm');
  });

  it('refuses an algorithm the configuration does not list', () => {
    expect(reasonOf(() => verifyJwt(token(goodClaims, 'RS256'), jwks, { ...check, algorithms: new Set(['ES256']) }))).toBe('algorithm');
  });

  it('refuses a kid that is unknown, and a key of another family (HS256 signed with an RSA public key)', () => {
    expect(reasonOf(() => verifyJwt(token(goodClaims, 'ES256', 'nobody'), jwks, check))).toBe('key');
    // the classic confusion: HMAC keyed with the RSA public key, claiming the RSA key's kid
    const rsaPublic = createSecretKey(Buffer.from(JSON.stringify(keys.get('RS256')?.jwk)));
    expect(reasonOf(() => verifyJwt(signJwt(goodClaims, 'HS256', rsaPublic, 'RS256'), jwks, check))).toBe('key');
  });

  it('needs a kid when the set has several keys, and none when it has one', () => {
    expect(reasonOf(() => verifyJwt(token(goodClaims, 'ES256', null), jwks, check))).toBe('key');
    const single = parseJwks(JSON.stringify({ keys: [keys.get('ES256')?.jwk] }));
    expect(reasonOf(() => verifyJwt(token(goodClaims, 'ES256', null), single, check))).toBe('accepted');
  });

  it('refuses what is not a token: garbage, JSON that is not an object, an oversized password', () => {
    expect(reasonOf(() => verifyJwt('a.b', jwks, check))).toBe('malformed');
    const notObject = `${Buffer.from('[1]').toString('base64url')}.e30.c2ln`;
    expect(reasonOf(() => verifyJwt(notObject, jwks, check))).toBe('malformed');
    expect(looksLikeJwt(`${'a'.repeat(20_000)}.b.c`)).toBe(false);
  });
});

describe('JWKS file', () => {
  it.each([
    ['no keys', { keys: [] }],
    ['an HMAC key shorter than 32 bytes', { keys: [{ kty: 'oct', k: randomBytes(16).toString('base64url') }] }],
    ['an RSA key of 1024 bits', { keys: [generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })] }],
    ['an encryption key', { keys: [{ ...keys.get('ES256')?.jwk, use: 'enc' }] }],
    ['an alg that does not fit the key', { keys: [{ ...keys.get('ES256')?.jwk, alg: 'RS256' }] }],
    ['several keys without kids', { keys: [keys.get('ES256')?.jwk, keys.get('RS256')?.jwk] }],
    ['two keys with one kid', { keys: [{ ...keys.get('ES256')?.jwk, kid: 'a' }, { ...keys.get('RS256')?.jwk, kid: 'a' }] }],
  ])('refuses a set with %s', (_what, document) => {
    expect(() => parseJwks(JSON.stringify(document))).toThrow(JwksError);
  });
});

// Signs a JWT (compact JWS) with node:crypto: for tests, examples and tools that issue device tokens. The proxy
// itself only verifies (jwt.ts).
import { createHmac, sign, type KeyObject } from 'node:crypto';
import type { JwtAlgorithm } from './jwks.js';

const HASH: Readonly<Record<string, string>> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `header.payload.signature` for `claims`, signed with `key` (a secret key for HS*, a private key otherwise). */
export function signJwt(claims: Readonly<Record<string, unknown>>, alg: JwtAlgorithm, key: KeyObject, kid?: string): string {
  const input = `${segment({ alg, typ: 'JWT', ...(kid === undefined ? {} : { kid }) })}.${segment(claims)}`;
  const hash = HASH[alg.slice(2)] ?? 'sha512';
  let signature: Buffer;
  if (alg.startsWith('HS')) signature = createHmac(hash, key).update(input).digest();
  else if (alg.startsWith('ES')) signature = sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else signature = sign(hash, Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

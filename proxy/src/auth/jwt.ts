// JWT (RFC 7519, JWS compact serialisation) verified with node:crypto only. What is checked, in order: the shape,
// the header's `alg` against the configured list (so `none` and anything unlisted are refused), the key chosen by
// `kid` (a set of one key needs none) and whether that key may verify `alg`, the signature, then the claims exp
// (required), nbf, iss and aud with a clock skew.
import { createHmac, timingSafeEqual, verify } from 'node:crypto';
import type { JwtAlgorithm, VerificationKey } from './jwks.js';

/** Why a token was refused (a bounded label for metrics). */
export type JwtFailure = 'malformed' | 'algorithm' | 'key' | 'signature' | 'expired' | 'not-yet-valid' | 'issuer' | 'audience';

export class JwtError extends Error {
  override readonly name = 'JwtError';
  constructor(readonly reason: JwtFailure, message: string) {
    super(message);
  }
}

export interface JwtCheck {
  readonly algorithms: ReadonlySet<JwtAlgorithm>;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  readonly clockSkewSeconds: number;
  readonly nowMs: number;
}

export type JwtClaims = Readonly<Record<string, unknown>>;

/** Longest token looked at; longer passwords are not tokens. */
export const MAX_TOKEN_BYTES = 16_384;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const HASH: Readonly<Record<string, string>> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** Whether a password has the shape of a compact JWS (three base64url segments); cheap, no decoding. */
export function looksLikeJwt(text: string): boolean {
  if (text.length > MAX_TOKEN_BYTES) return false;
  const parts = text.split('.');
  return parts.length === 3 && parts.every((part) => SEGMENT.test(part));
}

function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('malformed', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtError('malformed', `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function chooseKey(keys: readonly VerificationKey[], kid: unknown, alg: JwtAlgorithm): VerificationKey {
  if (kid !== undefined && typeof kid !== 'string') throw new JwtError('key', 'kid is not a string');
  const key = kid === undefined ? (keys.length === 1 ? keys[0] : undefined) : keys.find((k) => k.kid === kid);
  if (key === undefined) throw new JwtError('key', kid === undefined ? 'no kid, and the key set has several keys' : 'unknown kid');
  if (!key.algorithms.has(alg)) throw new JwtError('key', `the key ${key.kid ?? ''} does not verify ${alg}`);
  return key;
}

function signatureValid(alg: JwtAlgorithm, key: VerificationKey, signingInput: string, signature: Buffer): boolean {
  const hash = HASH[alg.slice(2)] ?? 'sha512';
  if (alg.startsWith('HS')) {
    const expected = createHmac(hash, key.key).update(signingInput).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  const input = Buffer.from(signingInput);
  try {
    if (alg.startsWith('ES')) return verify(hash, input, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
    return verify(hash, input, key.key, signature);
  } catch {
    return false; // a signature OpenSSL cannot even parse
  }
}

function checkTimes(claims: Record<string, unknown>, check: JwtCheck): void {
  const now = check.nowMs / 1000;
  const skew = check.clockSkewSeconds;
  if (typeof claims.exp !== 'number') throw new JwtError('expired', 'exp missing');
  if (now >= claims.exp + skew) throw new JwtError('expired', 'token expired');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || now + skew < claims.nbf)) throw new JwtError('not-yet-valid', 'token not yet valid');
}

function checkParties(claims: Record<string, unknown>, check: JwtCheck): void {
  if (check.issuer !== undefined && claims.iss !== check.issuer) throw new JwtError('issuer', 'wrong issuer');
  if (check.audience !== undefined) {
    const aud = claims.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(check.audience)) throw new JwtError('audience', 'wrong audience');
  }
}

/** Verifies a compact JWS against the key set and returns its claims; throws JwtError with the reason. */
export function verifyJwt(token: string, keys: readonly VerificationKey[], check: JwtCheck): JwtClaims {
  if (!looksLikeJwt(token)) throw new JwtError('malformed', 'not a compact JWS');
  const [headerPart = '', payloadPart = '', signaturePart = ''] = token.split('.');
  const header = decodeJsonObject(headerPart, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !check.algorithms.has(alg as JwtAlgorithm)) throw new JwtError('algorithm', `alg ${String(alg)} not accepted`);
  if (header.crit !== undefined) throw new JwtError('malformed', 'critical header extensions are not supported');
  const key = chooseKey(keys, header.kid, alg as JwtAlgorithm);
  if (!signatureValid(alg as JwtAlgorithm, key, `${headerPart}.${payloadPart}`, Buffer.from(signaturePart, 'base64url'))) {
    throw new JwtError('signature', 'bad signature');
  }
  const claims = decodeJsonObject(payloadPart, 'payload');
  checkTimes(claims, check);
  checkParties(claims, check);
  return claims;
}

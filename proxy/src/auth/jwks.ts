// A JSON Web Key Set (RFC 7517) read from a file: the keys that may sign device tokens, by `kid`. Symmetric keys
// (`oct`) verify HS256/384/512, RSA keys RS256/384/512, EC keys ES256 (P-256), ES384 (P-384) or ES512 (P-521).
import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface VerificationKey {
  readonly kid: string | undefined;
  readonly key: KeyObject;
  /** The algorithms this key may verify (its type, curve and `alg`, if the JWK names one). */
  readonly algorithms: ReadonlySet<JwtAlgorithm>;
}

export class JwksError extends Error {
  override readonly name = 'JwksError';
}

const EC_ALGORITHM: Readonly<Record<string, JwtAlgorithm>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
/** RFC 7518 §3.2: an HMAC key at least as long as the hash. */
const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };
const RSA_MIN_BITS = 2048;

const isAlgorithm = (value: unknown): value is JwtAlgorithm => typeof value === 'string' && (JWT_ALGORITHMS as readonly string[]).includes(value);

function familyOf(jwk: Record<string, unknown>): { key: KeyObject; algorithms: JwtAlgorithm[] } {
  switch (jwk.kty) {
    case 'oct': {
      if (typeof jwk.k !== 'string') throw new JwksError('oct key without k');
      const secret = Buffer.from(jwk.k, 'base64url');
      const algorithms = (['HS256', 'HS384', 'HS512'] as const).filter((alg) => secret.length >= (HMAC_MIN_BYTES[alg] ?? 0));
      if (algorithms.length === 0) throw new JwksError('oct key shorter than 32 bytes');
      return { key: createSecretKey(secret), algorithms };
    }
    case 'RSA': {
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < RSA_MIN_BITS) throw new JwksError(`RSA key shorter than ${RSA_MIN_BITS} bits`);
      return { key, algorithms: ['RS256', 'RS384', 'RS512'] };
    }
    case 'EC': {
      const algorithm = typeof jwk.crv === 'string' ? EC_ALGORITHM[jwk.crv] : undefined;
      if (algorithm === undefined) throw new JwksError(`EC curve ${String(jwk.crv)} not supported`);
      return { key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), algorithms: [algorithm] };
    }
    default:
      throw new JwksError(`key type ${String(jwk.kty)} not supported`);
  }
}

function readKey(jwk: unknown, index: number): VerificationKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new JwksError(`key ${index} is not an object`);
  const fields = jwk as Record<string, unknown>;
  if (fields.use !== undefined && fields.use !== 'sig') throw new JwksError(`key ${index} is not for signatures`);
  if (fields.kid !== undefined && typeof fields.kid !== 'string') throw new JwksError(`key ${index}: kid is not a string`);
  try {
    const { key, algorithms } = familyOf(fields);
    if (fields.alg !== undefined && !(isAlgorithm(fields.alg) && algorithms.includes(fields.alg))) {
      throw new JwksError(`alg ${JSON.stringify(fields.alg)} does not fit the key`);
    }
    return { kid: fields.kid, key, algorithms: new Set(isAlgorithm(fields.alg) ? [fields.alg] : algorithms) };
  } catch (err: unknown) {
    if (err instanceof JwksError) throw new JwksError(`key ${index}: ${err.message}`);
    throw new JwksError(`key ${index}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Parses a JWKS document (`{"keys": [...]}`); every key must be usable, and kids must be unique. */
export function parseJwks(text: string): readonly VerificationKey[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err: unknown) {
    throw new JwksError('JWKS is not JSON', { cause: err });
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new JwksError('JWKS has no "keys"');
  const parsed = keys.map((jwk, index) => readKey(jwk, index));
  const kids = parsed.map((k) => k.kid);
  if (parsed.length > 1 && kids.some((kid) => kid === undefined)) throw new JwksError('every key of a set of several needs a kid');
  if (new Set(kids).size !== kids.length) throw new JwksError('two keys share a kid');
  return parsed;
}

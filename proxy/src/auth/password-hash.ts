// Password hashes in a self-describing string (the PHC string format): the algorithm, its parameters, the salt
// and the hash travel together, so a users file may mix algorithms and costs and each line verifies on its own.
//
//   $scrypt$ln=14,r=8,p=1$<salt>$<hash>          scrypt, N = 2^ln
//   $pbkdf2-sha256$i=600000$<salt>$<hash>        PBKDF2-HMAC-SHA-256 (also pbkdf2-sha512)
//
// <salt> and <hash> are base64 without padding. Only node:crypto is used; comparison is constant-time.
import { pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export type HashAlgorithm = 'scrypt' | 'pbkdf2-sha256' | 'pbkdf2-sha512';

/** A hash string that cannot be read (unknown algorithm, parameters out of bounds, bad encoding). */
export class PasswordHashError extends Error {
  override readonly name = 'PasswordHashError';
}

interface ScryptParams {
  readonly algorithm: 'scrypt';
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}
interface Pbkdf2Params {
  readonly algorithm: 'pbkdf2-sha256' | 'pbkdf2-sha512';
  readonly iterations: number;
}
type HashParams = ScryptParams | Pbkdf2Params;

export interface ParsedHash {
  readonly params: HashParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Defaults: scrypt N = 2^14, r = 8 (16 MiB per hash); PBKDF2-SHA-256 600,000 and SHA-512 210,000 iterations (OWASP). */
export const DEFAULT_PARAMS: Readonly<Record<HashAlgorithm, HashParams>> = {
  scrypt: { algorithm: 'scrypt', ln: 14, r: 8, p: 1 },
  'pbkdf2-sha256': { algorithm: 'pbkdf2-sha256', iterations: 600_000 },
  'pbkdf2-sha512': { algorithm: 'pbkdf2-sha512', iterations: 210_000 },
};

/** Bounds on what a hash string may ask for: a users file must not make one CONNECT cost minutes or gigabytes. */
const BOUNDS = { ln: [10, 20], r: [1, 32], p: [1, 16], iterations: [1_000, 10_000_000], salt: [8, 64], hash: [16, 64] } as const;
const HASH_BYTES = 32;
const SALT_BYTES = 16;

function inRange(value: number, [min, max]: readonly [number, number], what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new PasswordHashError(`${what} must be ${min}..${max}`);
  return value;
}

function decodeBase64(text: string, bounds: readonly [number, number], what: string): Buffer {
  if (!/^[A-Za-z0-9+/]+$/.test(text)) throw new PasswordHashError(`${what} is not base64`);
  const bytes = Buffer.from(text, 'base64');
  inRange(bytes.length, bounds, `${what} length`);
  return bytes;
}

function parseFields(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const part of text.split(',')) {
    const match = /^([a-z]+)=(\d{1,9})$/.exec(part);
    if (match === null) throw new PasswordHashError(`bad parameter "${part}"`);
    fields.set(match[1] ?? '', Number(match[2]));
  }
  return fields;
}

function parseParams(algorithm: string, text: string): HashParams {
  const fields = parseFields(text);
  const field = (name: string): number => {
    const value = fields.get(name);
    if (value === undefined) throw new PasswordHashError(`missing parameter ${name}`);
    return value;
  };
  if (algorithm === 'scrypt') {
    return { algorithm, ln: inRange(field('ln'), BOUNDS.ln, 'ln'), r: inRange(field('r'), BOUNDS.r, 'r'), p: inRange(field('p'), BOUNDS.p, 'p') };
  }
  if (algorithm === 'pbkdf2-sha256' || algorithm === 'pbkdf2-sha512') {
    return { algorithm, iterations: inRange(field('i'), BOUNDS.iterations, 'i') };
  }
  throw new PasswordHashError(`unknown algorithm "${algorithm}"`);
}

/** Reads a hash string; throws PasswordHashError when it is not one this module writes. */
export function parseHash(encoded: string): ParsedHash {
  const parts = encoded.split('$');
  if (parts.length !== 5 || parts[0] !== '') throw new PasswordHashError('not a $algorithm$params$salt$hash string');
  const [, algorithm = '', params = '', salt = '', hash = ''] = parts;
  return {
    params: parseParams(algorithm, params),
    salt: decodeBase64(salt, BOUNDS.salt, 'salt'),
    hash: decodeBase64(hash, BOUNDS.hash, 'hash'),
  };
}

function formatParams(params: HashParams): string {
  return params.algorithm === 'scrypt' ? `ln=${params.ln},r=${params.r},p=${params.p}` : `i=${params.iterations}`;
}

const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

/** Derives the key in libuv's thread pool (never blocks the event loop). */
function derive(password: Buffer, salt: Buffer, params: HashParams, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, key: Buffer): void => (err === null ? resolve(key) : reject(err));
    if (params.algorithm === 'scrypt') {
      const N = 2 ** params.ln;
      scrypt(password, salt, length, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1_048_576 }, done);
    } else {
      pbkdf2(password, salt, params.iterations, length, params.algorithm === 'pbkdf2-sha256' ? 'sha256' : 'sha512', done);
    }
  });
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string, algorithm: HashAlgorithm = 'scrypt', overrides: Partial<{ ln: number; iterations: number }> = {}): Promise<string> {
  const base = DEFAULT_PARAMS[algorithm];
  const params: HashParams =
    base.algorithm === 'scrypt'
      ? { ...base, ln: inRange(overrides.ln ?? base.ln, BOUNDS.ln, 'ln') }
      : { ...base, iterations: inRange(overrides.iterations ?? base.iterations, BOUNDS.iterations, 'iterations') };
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(Buffer.from(password, 'utf8'), salt, params, HASH_BYTES);
  return `$${params.algorithm}$${formatParams(params)}$${b64(salt)}$${b64(hash)}`;
}

/** Whether `password` matches a parsed hash; the comparison takes the same time wherever the bytes differ. */
export async function verifyPassword(password: Buffer | string, parsed: ParsedHash): Promise<boolean> {
  const candidate = await derive(typeof password === 'string' ? Buffer.from(password, 'utf8') : password, parsed.salt, parsed.params, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}

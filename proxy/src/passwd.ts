#!/usr/bin/env node
// shoal-passwd: prints a users-file line `username:hash` for a password read from stdin.
//
//   printf '%s' "$PASSWORD" | shoal-passwd [--algorithm scrypt|pbkdf2-sha256|pbkdf2-sha512] [--cost N] <username>
//
// --cost is log2(N) for scrypt (default 14) and the iteration count for PBKDF2 (default 600000 / 210000).
import { parseArgs } from 'node:util';
import { hashPassword, type HashAlgorithm } from './auth/password-hash.js';

const USAGE = 'usage: printf %s "$PASSWORD" | shoal-passwd [--algorithm scrypt|pbkdf2-sha256|pbkdf2-sha512] [--cost N] <username>\n';
const ALGORITHMS: readonly HashAlgorithm[] = ['scrypt', 'pbkdf2-sha256', 'pbkdf2-sha512'];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { algorithm: { type: 'string', default: 'scrypt' }, cost: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const algorithm = ALGORITHMS.find((a) => a === values.algorithm);
  const [username] = positionals;
  if (algorithm === undefined || username === undefined || positionals.length !== 1 || /[\r\n]/.test(username) || username === '') {
    throw new Error(USAGE.trimEnd());
  }
  const cost = values.cost === undefined ? undefined : Number(values.cost);
  if (cost !== undefined && !Number.isInteger(cost)) throw new Error('--cost must be a whole number');
  if (process.stdin.isTTY) process.stderr.write('password (then Enter, Ctrl-D): ');
  const password = await readStdin();
  if (password === '') throw new Error('empty password');
  const overrides = cost === undefined ? {} : algorithm === 'scrypt' ? { ln: cost } : { iterations: cost };
  process.stdout.write(`${username}:${await hashPassword(password, algorithm, overrides)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`shoal-passwd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

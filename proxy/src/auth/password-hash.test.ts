import { describe, expect, it } from '@jest/globals';
import { hashPassword, parseHash, PasswordHashError, verifyPassword } from './password-hash.js';
import { parseUsersFile, UsersFileError } from './users-file.js';

describe('password hashes', () => {
  it.each([
    ['scrypt', { ln: 10 }, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/],
    ['pbkdf2-sha256', { iterations: 1_000 }, /^\$pbkdf2-sha256\$i=1000\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/],
    ['pbkdf2-sha512', { iterations: 1_000 }, /^\$pbkdf2-sha512\$i=1000\$/],
  ] as const)('%s: writes a self-describing string that verifies the password and nothing else', async (algorithm, cost, shape) => {
    const encoded = await hashPassword('correct horse', algorithm, cost);
    expect(encoded).toMatch(shape);
    const parsed = parseHash(encoded);
    await expect(verifyPassword('correct horse', parsed)).resolves.toBe(true);
    await expect(verifyPassword('correct hors', parsed)).resolves.toBe(false);
    await expect(verifyPassword(Buffer.from('correct horse '), parsed)).resolves.toBe(false);
  });

  it('salts every hash: the same password hashes differently twice', async () => {
    const [a, b] = await Promise.all([hashPassword('pw', 'scrypt', { ln: 10 }), hashPassword('pw', 'scrypt', { ln: 10 })]);
    expect(a).not.toBe(b);
  });

  it('uses the default cost when none is given (scrypt ln=14)', async () => {
    expect(await hashPassword('pw')).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
  });

  it('a tampered hash no longer verifies', async () => {
    const encoded = await hashPassword('pw', 'pbkdf2-sha256', { iterations: 1_000 });
    const parts = encoded.split('$');
    const hash = Buffer.from(parts[4] ?? '', 'base64');
    hash[0] = (hash[0] ?? 0) ^ 1;
    parts[4] = hash.toString('base64').replace(/=+$/, '');
    await expect(verifyPassword('pw', parseHash(parts.join('$')))).resolves.toBe(false);
  });

  it.each([
    ['an unknown algorithm', '$md5$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'],
    ['a cost above the bound (scrypt ln=30: 128 GiB)', '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'],
    ['too few iterations', '$pbkdf2-sha256$i=10$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'],
    ['a missing parameter', '$scrypt$ln=14,r=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'],
    ['a salt that is not base64', '$pbkdf2-sha256$i=1000$salt!!$aGFzaGhhc2hoYXNoaGFzaA'],
    ['a short hash', '$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaA'],
    ['a plain-text password', 'secret'],
  ])('refuses %s', (_what, encoded) => {
    expect(() => parseHash(encoded)).toThrow(PasswordHashError);
  });
});

describe('users file', () => {
  it('reads username:hash lines, skipping comments and blank lines', async () => {
    const hash = await hashPassword('pw', 'pbkdf2-sha256', { iterations: 1_000 });
    const users = parseUsersFile(`# devices\n\ndevice-1:${hash}\nname:with:colons:${hash}\r\n`);
    expect([...users.keys()]).toEqual(['device-1', 'name:with:colons']);
  });

  it('refuses the whole file for one bad line, naming the line', () => {
    expect(() => parseUsersFile('a:$scrypt$ln=14,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\nb:plaintext\n')).toThrow(/line 2/);
    expect(() => parseUsersFile('no-colon\n')).toThrow(UsersFileError);
  });

  it('refuses a user listed twice', async () => {
    const hash = await hashPassword('pw', 'pbkdf2-sha256', { iterations: 1_000 });
    expect(() => parseUsersFile(`a:${hash}\na:${hash}\n`)).toThrow(/twice/);
  });
});

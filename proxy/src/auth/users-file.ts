// The users file: one `username:hash` per line (the hash as password-hash.ts writes it, e.g. by `shoal-passwd`);
// blank lines and lines starting with `#` are ignored. The last `:` separates the name from the hash.
import { parseHash, type ParsedHash } from './password-hash.js';

/** A users file line that cannot be used; the message names the line. */
export class UsersFileError extends Error {
  override readonly name = 'UsersFileError';
}

/** Parses a users file; any bad line rejects the whole file (a reload then keeps the previous one). */
export function parseUsersFile(text: string): ReadonlyMap<string, ParsedHash> {
  const users = new Map<string, ParsedHash>();
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.lastIndexOf(':');
    const username = line.slice(0, colon);
    if (colon <= 0) throw new UsersFileError(`line ${index + 1}: expected username:hash`);
    if (users.has(username)) throw new UsersFileError(`line ${index + 1}: user "${username}" appears twice`);
    try {
      users.set(username, parseHash(line.slice(colon + 1)));
    } catch (err: unknown) {
      throw new UsersFileError(`line ${index + 1}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return users;
}

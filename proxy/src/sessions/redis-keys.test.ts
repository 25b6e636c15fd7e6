import { describe, expect, it } from '@jest/globals';
import { SESSION_SCRIPTS } from './redis-scripts.js';
import { escapeClientId, expiryBucketKey, expiryBucketOf, expiryMember, parseExpiryMember, sessionKeys } from './redis-keys.js';

/** The part of a key Redis Cluster hashes: the text inside the first `{…}` when not empty, else the whole key. */
function hashedPart(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

const AWKWARD_IDS = ['dev-1', '}', '}x', '{x}', '{', '%7D', 'a}b{c', 'ünï cödé/+/#', ''];

describe('redis-keys', () => {
  it('names a session under shoal:v1:{<clientId>}', () => {
    expect(sessionKeys('dev-1')).toEqual({
      session: 'shoal:v1:{dev-1}:session',
      subscriptions: 'shoal:v1:{dev-1}:subs',
      cursors: 'shoal:v1:{dev-1}:cursors',
      will: 'shoal:v1:{dev-1}:will',
    });
  });

  it('puts every key of a session on one cluster slot, whatever the client id', () => {
    for (const id of AWKWARD_IDS) {
      const keys = Object.values(sessionKeys(id));
      expect(new Set(keys.map(hashedPart)).size).toBe(1);
      expect(hashedPart(sessionKeys(id).session)).toBe(escapeClientId(id));
    }
  });

  it('escapes client ids one-to-one', () => {
    const escaped = AWKWARD_IDS.map(escapeClientId);
    expect(new Set(escaped).size).toBe(AWKWARD_IDS.length);
    expect(escapeClientId('a}b{c%')).toBe('a%7Db%7Bc%25');
  });

  it('spreads client ids over the expiry buckets, each bucket its own slot', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[expiryBucketOf(`device-${i}`, 16)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
    expect(expiryBucketKey(3)).toBe('shoal:v1:expiry:{3}');
    expect(hashedPart(expiryBucketKey(3))).toBe('3');
    expect(expiryBucketOf('dev-1', 16)).toBe(expiryBucketOf('dev-1', 16));
  });

  it('reads index members back', () => {
    expect(parseExpiryMember(expiryMember('will', 'a|b'))).toEqual({ kind: 'will', clientId: 'a|b' });
    expect(parseExpiryMember(expiryMember('session', ''))).toEqual({ kind: 'session', clientId: '' });
    expect(parseExpiryMember('x|y')).toBeUndefined();
  });

  it('declares the keys every script touches, and no script builds a key itself', () => {
    for (const script of Object.values(SESSION_SCRIPTS)) {
      const used = [...script.lua.matchAll(/KEYS\[(\d+)\]/g)].map((match) => Number(match[1]));
      expect(Math.max(...used)).toBe(script.numberOfKeys);
      expect(script.lua).not.toMatch(/shoal:|redis\.call\('(KEYS|SCAN)'/);
    }
  });
});

import { describe, expect, it } from '@jest/globals';
import { OwnerSets, type SetCommands } from './owner-sets.js';

/** Redis sets in memory, recording each command as it is sent; a member named `fail` makes its command fail. */
function fakeRedis(): SetCommands & { sent: string[]; sets: Map<string, Set<string>> } {
  const sets = new Map<string, Set<string>>();
  const sent: string[] = [];
  const apply = (kind: 'sadd' | 'srem', key: string, members: string[]): Promise<number> => {
    sent.push(`${kind} ${key} ${members.join(' ')}`);
    if (members.includes('fail')) return Promise.reject(new Error('connection lost'));
    const set = sets.get(key) ?? new Set<string>();
    sets.set(key, set);
    let changed = 0;
    for (const m of members) {
      if (kind === 'sadd' ? !set.has(m) : set.has(m)) changed++;
      if (kind === 'sadd') set.add(m);
      else set.delete(m);
    }
    return Promise.resolve(changed);
  };
  return { sent, sets, sadd: (key, members) => apply('sadd', key, members), srem: (key, members) => apply('srem', key, members) };
}

describe('OwnerSets', () => {
  it('sends the changes of one turn as one command per set and kind', async () => {
    const redis = fakeRedis();
    const owners = new OwnerSets(redis);
    await Promise.all([owners.add('p0', 'a'), owners.add('p0', 'b'), owners.add('p1', 'c'), owners.add('p0', 'd')]);
    expect(redis.sent).toEqual(['sadd p0 a b d', 'sadd p1 c']);
    expect([...(redis.sets.get('p0') ?? [])]).toEqual(['a', 'b', 'd']);
  });

  it('keeps the order of changes to one set within a turn', async () => {
    const redis = fakeRedis();
    const owners = new OwnerSets(redis);
    await Promise.all([owners.add('p0', 'a'), owners.remove('p0', 'a'), owners.add('p0', 'b'), owners.remove('p0', 'x')]);
    expect(redis.sent).toEqual(['sadd p0 a', 'srem p0 a', 'sadd p0 b', 'srem p0 x']);
    expect([...(redis.sets.get('p0') ?? [])]).toEqual(['b']);
  });

  it('starts a new batch on the next turn', async () => {
    const redis = fakeRedis();
    const owners = new OwnerSets(redis);
    await owners.add('p0', 'a');
    await owners.add('p0', 'b');
    expect(redis.sent).toEqual(['sadd p0 a', 'sadd p0 b']);
  });

  it('fails every caller of a failed command and only them', async () => {
    const redis = fakeRedis();
    const owners = new OwnerSets(redis);
    const results = await Promise.allSettled([owners.add('p0', 'a'), owners.add('p0', 'fail'), owners.add('p1', 'c')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(results[0].status === 'rejected' ? String(results[0].reason) : '').toContain('connection lost');
  });

  it('fails the callers when the client throws instead of rejecting', async () => {
    const owners = new OwnerSets({
      sadd: () => {
        throw new Error('not connected');
      },
      srem: () => Promise.resolve(0),
    });
    await expect(owners.add('p0', 'a')).rejects.toThrow('not connected');
    await expect(owners.remove('p0', 'a')).resolves.toBeUndefined();
  });
});

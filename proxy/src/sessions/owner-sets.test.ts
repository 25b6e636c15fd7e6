import { describe, expect, it } from '@jest/globals';
import { OwnerSets, type SetCommands } from './owner-sets.js';

/**
 * Redis sets in memory, recording each command as it is sent (and applying it then, as Redis would in order); a
 * member named `fail` makes its command fail. With `hold`, answers wait until `answer()`.
 */
function fakeRedis(hold = false): SetCommands & { sent: string[]; sets: Map<string, Set<string>>; answer: () => void } {
  const sets = new Map<string, Set<string>>();
  const sent: string[] = [];
  let held: (() => void)[] = [];
  const apply = (kind: 'sadd' | 'srem', key: string, members: string[]): Promise<number> => {
    sent.push(`${kind} ${key} ${members.join(' ')}`);
    const set = sets.get(key) ?? new Set<string>();
    sets.set(key, set);
    for (const m of members) {
      if (kind === 'sadd') set.add(m);
      else set.delete(m);
    }
    const failed = members.includes('fail');
    if (!hold) return failed ? Promise.reject(new Error('connection lost')) : Promise.resolve(members.length);
    return new Promise((resolve, reject) => held.push(() => (failed ? reject(new Error('connection lost')) : resolve(members.length))));
  };
  const answer = (): void => {
    const now = held;
    held = [];
    for (const settle of now) settle();
  };
  return { sent, sets, answer, sadd: (key, members) => apply('sadd', key, members), srem: (key, members) => apply('srem', key, members) };
}

const members = (redis: { sets: Map<string, Set<string>> }, key: string): string[] => [...(redis.sets.get(key) ?? [])].sort();

describe('OwnerSets', () => {
  it('sends the additions of one turn as one command per set', async () => {
    const redis = fakeRedis();
    const owners = new OwnerSets(redis);
    await Promise.all([owners.add('p0', 'a'), owners.add('p0', 'b'), owners.add('p1', 'c'), owners.add('p0', 'd')]);
    expect(redis.sent).toEqual(['sadd p0 a b d', 'sadd p1 c']);
    expect(members(redis, 'p0')).toEqual(['a', 'b', 'd']);
  });

  it('gathers the additions asked while a SADD is unanswered into the next one, sent once it is answered', async () => {
    const redis = fakeRedis(true);
    const owners = new OwnerSets(redis);
    const first = owners.add('p0', 'a');
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.sent).toEqual(['sadd p0 a']);
    let laterDone = false;
    const later = Promise.all([owners.add('p0', 'b'), owners.add('p0', 'c')]).then(() => (laterDone = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.sent).toEqual(['sadd p0 a']); // still waiting for the first answer
    redis.answer();
    await first;
    expect(redis.sent).toEqual(['sadd p0 a', 'sadd p0 b c']);
    expect(laterDone).toBe(false);
    redis.answer();
    await later;
    expect(members(redis, 'p0')).toEqual(['a', 'b', 'c']);
  });

  it('holds removals and sends them as one command per set; nobody waits for them', async () => {
    const redis = fakeRedis();
    const owners = new OwnerSets(redis, 20);
    await Promise.all([owners.add('p0', 'a'), owners.add('p0', 'b'), owners.add('p1', 'c')]);
    owners.remove('p0', 'a');
    owners.remove('p1', 'c');
    owners.remove('p0', 'b');
    expect(redis.sent).toEqual(['sadd p0 a b', 'sadd p1 c']);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(redis.sent.slice(2)).toEqual(['srem p0 a b', 'srem p1 c']);
    expect(members(redis, 'p0')).toEqual([]);
  });

  it('keeps the last change of an id: an addition cancels a held removal, a later removal follows the addition', async () => {
    const redis = fakeRedis();
    const owners = new OwnerSets(redis, 60_000);
    await owners.add('p0', 'a');
    owners.remove('p0', 'a');
    await owners.add('p0', 'a'); // the removal was never sent: the id stays
    const added = owners.add('p0', 'b');
    owners.remove('p0', 'b'); // asked after the addition (not sent yet): sent after it
    await owners.flush();
    await added;
    expect(redis.sent).toEqual(['sadd p0 a', 'sadd p0 a', 'sadd p0 b', 'srem p0 b']);
    expect(members(redis, 'p0')).toEqual(['a']);
  });

  it('fails every caller of a failed SADD and only them', async () => {
    const redis = fakeRedis();
    const owners = new OwnerSets(redis);
    const results = await Promise.allSettled([owners.add('p0', 'a'), owners.add('p0', 'fail'), owners.add('p1', 'c')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(results[0].status === 'rejected' ? String(results[0].reason) : '').toContain('connection lost');
  });

  it('fails the callers when the client throws instead of rejecting, and forgets a failed removal', async () => {
    const srem: string[][] = [];
    const owners = new OwnerSets(
      {
        sadd: () => {
          throw new Error('not connected');
        },
        srem: (_key, ids) => {
          srem.push(ids);
          throw new Error('not connected');
        },
      },
      60_000,
    );
    await expect(owners.add('p0', 'a')).rejects.toThrow('not connected');
    owners.remove('p0', 'a');
    await expect(owners.flush()).resolves.toBeUndefined();
    expect(srem).toEqual([['a']]);
  });
});

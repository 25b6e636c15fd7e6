// The session store contract (proxy/src/sessions/session-store.contract.ts) against the Redis store on a real
// redis-server: two RedisSessionStore instances, each with its own connection, play two proxies. Everything is
// judged by the callers' clock, so nothing sleeps; TTLs are read with PTTL. redis-cli inspects and damages keys.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BackendUnavailableError } from '@shoal/proxy/internal';
// The Redis store and the contract suite are not exported by @shoal/proxy/internal (yet): the contract is test
// code that no package entry should carry, so this file reaches into the sources.
// eslint-disable-next-line no-restricted-imports -- see above
import { expiryBucketKey, expiryBucketOf, sessionKeys } from '../../proxy/src/sessions/redis-keys.js';
// eslint-disable-next-line no-restricted-imports -- see above
import { RedisSessionStore } from '../../proxy/src/sessions/redis-session-store.js';
// eslint-disable-next-line no-restricted-imports -- see above
import { openOptions, rejection, sampleRecord } from '../../proxy/src/sessions/session-samples.js';
// eslint-disable-next-line no-restricted-imports -- see above
import { sessionStoreContract } from '../../proxy/src/sessions/session-store.contract.js';
import { freePort } from '../src/processes/child-process.js';
import { startRedisServer, type RunningRedisServer } from '../src/processes/redis-server.js';

const run = promisify(execFile);
let dir: string;
let server: RunningRedisServer;

async function redisCli(...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(server.port), ...args]);
  return stdout.trim();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-session-store-'));
  server = await startRedisServer({ dir });
});

afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

sessionStoreContract('RedisSessionStore', async (options) => {
  await redisCli('FLUSHALL');
  // a generous command timeout: the 1,000-entry test queues thousands of commands on a machine shared with others
  const storeOptions = { url: server.url, commandTimeoutMs: 10_000, ...options };
  const stores = [new RedisSessionStore(storeOptions), new RedisSessionStore(storeOptions)] as const;
  return {
    stores,
    corrupt: async (clientId, part) => {
      const keys = sessionKeys(clientId);
      if (part === 'state') await redisCli('HSET', keys.session, 'state', '{"inflightOut":"not a list","qos2In":[]}');
      else await redisCli('HSET', keys.will, 'will', 'not json');
    },
    ttlMs: async (clientId) => {
      const ttl = Number(await redisCli('PTTL', sessionKeys(clientId).session));
      return ttl === -2 ? 'absent' : ttl === -1 ? 'persistent' : ttl;
    },
    close: async () => {
      await Promise.all(stores.map((store) => store.close()));
    },
  };
});

describe('RedisSessionStore: Redis itself', () => {
  it('keeps a session in keys of one hash tag, and the expiry index in buckets', async () => {
    await redisCli('FLUSHALL');
    const store = new RedisSessionStore({ url: server.url, expiryBuckets: 4 });
    try {
      const { epoch } = await store.open('dev-1', openOptions());
      await store.updateCursors('dev-1', epoch, { 'shard-0': 1 });
      await store.save(sampleRecord('dev-1', { expiryIntervalSeconds: 60 }), epoch, Date.now());
      await store.close(); // sends the owner-set removal it holds (owner-sets.ts)
      const keys = (await redisCli('--scan', '--pattern', 'shoal:*')).split('\n').sort();
      const bucket = expiryBucketKey(expiryBucketOf('dev-1', 4));
      expect(keys).toEqual([bucket, 'shoal:v1:{dev-1}:cursors', 'shoal:v1:{dev-1}:session', 'shoal:v1:{dev-1}:subs'].sort());
      expect(await redisCli('ZRANGE', bucket, '0', '-1')).toBe('s|dev-1');
    } finally {
      await store.close();
    }
  });

  it('an unreachable Redis is a BackendUnavailableError within the command timeout', async () => {
    const store = new RedisSessionStore({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 300, connectTimeoutMs: 300 });
    try {
      const started = Date.now();
      expect(await rejection(store.open('dev-1', openOptions()))).toBeInstanceOf(BackendUnavailableError);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await store.close();
    }
  });
});

import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../errors.js';
import { DEFAULT_VNODES, parseRingDocument, type RingDocumentInput } from './ring-document.js';

const shard = (id: string, extra: object = {}): object => ({ id, urls: [`nats://${id}:4222`], ...extra });
const minimal = { version: 1, shards: [shard('shard-0')] };

function configError(json: unknown): ConfigError {
  try {
    parseRingDocument(json);
  } catch (err: unknown) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseRingDocument', () => {
  it('applies the documented defaults', () => {
    expect(parseRingDocument(minimal)).toEqual({
      version: 1,
      vnodes: DEFAULT_VNODES,
      shardKeyLevels: 0,
      shards: [{ id: 'shard-0', urls: ['nats://shard-0:4222'], weight: 1 }],
    });
  });

  it('accepts a transition with defaults applied to the previous ring too', () => {
    const doc: RingDocumentInput = {
      version: 2,
      shards: [
        { id: 'shard-0', urls: ['nats://a:4222', 'nats://10.0.0.2:4222'] },
        { id: 'shard-1', urls: ['nats://b:4222'], weight: 2 },
      ],
      previous: { version: 1, shards: [{ id: 'shard-0', urls: ['nats://a:4222'] }] },
      transitionUntil: '2030-01-01T00:10:00Z',
    };
    const parsed = parseRingDocument(doc);
    expect(parsed.previous).toEqual({
      version: 1,
      vnodes: DEFAULT_VNODES,
      shardKeyLevels: 0,
      shards: [{ id: 'shard-0', urls: ['nats://a:4222'], weight: 1 }],
    });
    expect(parsed.transitionUntil).toBe('2030-01-01T00:10:00Z');
  });

  it.each([
    ['version 0', { ...minimal, version: 0 }, /version/],
    ['fractional version', { ...minimal, version: 1.5 }, /version/],
    ['vnodes 0', { ...minimal, vnodes: 0 }, /vnodes/],
    ['vnodes above 65536', { ...minimal, vnodes: 65_537 }, /vnodes/],
    ['shardKeyLevels above 32', { ...minimal, shardKeyLevels: 33 }, /shardKeyLevels/],
    ['negative shardKeyLevels', { ...minimal, shardKeyLevels: -1 }, /shardKeyLevels/],
    ['no shards', { version: 1, shards: [] }, /shards/],
    ['an upper-case shard id', { version: 1, shards: [shard('Shard-0')] }, /shards\[0\]\.id/],
    ['a shard id ending in a dash', { version: 1, shards: [shard('shard-')] }, /shards\[0\]\.id/],
    ['a shard id of 64 characters', { version: 1, shards: [shard('a'.repeat(64))] }, /shards\[0\]\.id/],
    ['duplicate shard ids', { version: 1, shards: [shard('a'), shard('b'), shard('a')] }, /duplicate shard id 'a'/],
    ['a shard without URLs', { version: 1, shards: [{ id: 'a', urls: [] }] }, /urls/],
    ['an http URL', { version: 1, shards: [{ id: 'a', urls: ['http://a:4222'] }] }, /urls/],
    ['weight 0', { version: 1, shards: [shard('a', { weight: 0 })] }, /weight/],
    ['a weight that gives no point', { version: 1, vnodes: 4, shards: [shard('a', { weight: 0.1 })] }, /no point/],
    ['too many points', { version: 1, vnodes: 65_536, shards: [shard('a', { weight: 100 })] }, /points/],
    ['an unknown key', { ...minimal, replicas: 3 }, /replicas/],
    ['an unknown shard key', { version: 1, shards: [shard('a', { zone: 'x' })] }, /zone/],
    ['previous without transitionUntil', { ...minimal, version: 2, previous: minimal }, /transitionUntil/],
    ['transitionUntil without previous', { ...minimal, transitionUntil: '2030-01-01T00:00:00Z' }, /previous/],
    [
      'a transitionUntil that is not ISO 8601',
      { ...minimal, version: 2, previous: minimal, transitionUntil: 'tomorrow' },
      /transitionUntil/,
    ],
    [
      'a previous ring not older than the current one',
      { ...minimal, previous: minimal, transitionUntil: '2030-01-01T00:00:00Z' },
      /previous\.version/,
    ],
    [
      'an invalid previous ring',
      { ...minimal, version: 2, previous: { version: 1, shards: [shard('x'), shard('x')] }, transitionUntil: '2030-01-01T00:00:00Z' },
      /previous\.shards\[1\]\.id/,
    ],
    ['a non-object', 'ring', /object/],
  ])('rejects %s with a ConfigError naming the problem', (_name, json, message) => {
    expect(configError(json).message).toMatch(message);
  });
});

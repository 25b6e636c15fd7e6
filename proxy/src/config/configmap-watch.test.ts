import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../errors.js';
import {
  ApiServerError,
  JsonLineDecoder,
  WatchProtocolError,
  backoffDelayMs,
  decideRing,
  isGone,
  parseConfigMapList,
  parseWatchEvent,
  toApiServerError,
} from './configmap-watch.js';

const ringText = (version: number): string =>
  JSON.stringify({ version, shards: [{ id: 'shard-0', urls: ['nats://shard-0:4222'] }] });
const configMap = (data: Record<string, string> | undefined, resourceVersion = '7'): object => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'demo-ring', namespace: 'mqtt', resourceVersion, labels: { a: 'b' } },
  ...(data === undefined ? {} : { data }),
});

describe('JsonLineDecoder', () => {
  it('returns whole lines only, joining a line split across chunks and skipping blank ones', () => {
    const decoder = new JsonLineDecoder();
    expect(decoder.push('{"a":')).toEqual([]);
    expect(decoder.push('1}\n\n{"b"')).toEqual(['{"a":1}']);
    expect(decoder.push(':2}\r\n{"c":3}\n')).toEqual(['{"b":2}', '{"c":3}']);
    expect(decoder.push('')).toEqual([]);
  });
});

describe('parseWatchEvent', () => {
  it('reads ADDED, MODIFIED and DELETED with the ConfigMap', () => {
    for (const type of ['ADDED', 'MODIFIED', 'DELETED'] as const) {
      const event = parseWatchEvent(JSON.stringify({ type, object: configMap({ 'ring.json': '{}' }, '42') }));
      expect(event).toEqual({ type, object: expect.objectContaining({ metadata: expect.objectContaining({ resourceVersion: '42' }), data: { 'ring.json': '{}' } }) });
    }
  });

  it('reads a BOOKMARK as its resourceVersion', () => {
    const line = JSON.stringify({ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '99', annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    expect(parseWatchEvent(line)).toEqual({ type: 'BOOKMARK', resourceVersion: '99' });
  });

  it('reads an ERROR event as a typed ApiServerError; 410 is Gone', () => {
    const line = JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 1 (5)', reason: 'Expired', code: 410 } });
    const event = parseWatchEvent(line);
    expect(event.type).toBe('ERROR');
    if (event.type !== 'ERROR') return;
    expect(event.error).toBeInstanceOf(ApiServerError);
    expect(event.error).toMatchObject({ status: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' });
    expect(isGone(event.error)).toBe(true);
    expect(isGone(new ApiServerError(500, 'InternalError', 'x'))).toBe(false);
    expect(isGone(new Error('410'))).toBe(false);
  });

  it.each([
    ['not JSON', 'ADDED {'],
    ['an unknown type', JSON.stringify({ type: 'RENAMED', object: {} })],
    ['an object without metadata', JSON.stringify({ type: 'ADDED', object: { data: {} } })],
  ])('refuses %s with a WatchProtocolError', (_name, line) => {
    expect(() => parseWatchEvent(line)).toThrow(WatchProtocolError);
  });
});

describe('parseConfigMapList and toApiServerError', () => {
  it('reads the list resourceVersion and items', () => {
    const list = parseConfigMapList({ kind: 'ConfigMapList', metadata: { resourceVersion: '12' }, items: [configMap({ 'ring.json': 'x' })] });
    expect(list.metadata.resourceVersion).toBe('12');
    expect(list.items).toHaveLength(1);
    expect(() => parseConfigMapList({ items: [] })).toThrow(WatchProtocolError);
  });

  it('turns an error response into an ApiServerError, from its Status when there is one', () => {
    const forbidden = JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'configmaps is forbidden: User "x" cannot list' });
    expect(toApiServerError(403, forbidden, 'GET /api/v1/namespaces/mqtt/configmaps')).toMatchObject({
      status: 403,
      reason: 'Forbidden',
      message: 'GET /api/v1/namespaces/mqtt/configmaps: configmaps is forbidden: User "x" cannot list',
    });
    expect(toApiServerError(502, '<html>bad gateway</html>', 'GET /x')).toMatchObject({ status: 502, reason: 'Unknown', message: 'GET /x: HTTP 502' });
  });
});

describe('decideRing: is this a new ring document?', () => {
  const read = (data: Record<string, string> | undefined): Parameters<typeof decideRing>[0] =>
    parseConfigMapList({ metadata: { resourceVersion: '1' }, items: [configMap(data)] }).items[0];

  it('is new when the text under the key differs from the ring in use and is valid', () => {
    const decision = decideRing(read({ 'ring.json': ringText(2) }), 'ring.json', ringText(1));
    expect(decision).toMatchObject({ kind: 'new', text: ringText(2), ring: { version: 2, vnodes: 4096 } });
    expect(decideRing(read({ 'ring.json': ringText(1) }), 'ring.json', undefined).kind).toBe('new');
  });

  it('is unchanged when only metadata changed (the same text)', () => {
    expect(decideRing(read({ 'ring.json': ringText(1), other: 'x' }), 'ring.json', ringText(1))).toEqual({ kind: 'unchanged' });
  });

  it('is missing without the ConfigMap or without the key', () => {
    expect(decideRing(undefined, 'ring.json', ringText(1))).toEqual({ kind: 'missing', reason: 'the ConfigMap does not exist' });
    expect(decideRing(read(undefined), 'ring.json', ringText(1))).toEqual({ kind: 'missing', reason: 'the ConfigMap has no key ring.json' });
    expect(decideRing(read({ 'ring.json': ringText(1) }), 'other.json', undefined)).toMatchObject({ kind: 'missing' });
  });

  it('is invalid (to be ignored) when the text is not JSON or not a ring document', () => {
    expect(decideRing(read({ 'ring.json': '{"version": 3,' }), 'ring.json', ringText(1))).toMatchObject({ kind: 'invalid', error: expect.any(SyntaxError) });
    const invalid = decideRing(read({ 'ring.json': JSON.stringify({ version: 'three', shards: [] }) }), 'ring.json', ringText(1));
    expect(invalid).toMatchObject({ kind: 'invalid', error: expect.any(ConfigError) });
  });
});

describe('backoffDelayMs', () => {
  it('doubles from the base to the cap, between half and all of each step', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, () => 0))).toEqual([250, 500, 1_000, 2_000]);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, () => 1))).toEqual([500, 1_000, 2_000, 4_000]);
    expect(backoffDelayMs(50, () => 1)).toBe(30_000);
    expect(backoffDelayMs(1_000, () => 0)).toBe(15_000);
    expect(backoffDelayMs(0, () => 1)).toBe(500);
  });
});

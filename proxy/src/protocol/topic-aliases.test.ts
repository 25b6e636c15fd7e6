import { describe, expect, it } from '@jest/globals';
import { ReasonCode } from './reason-codes.js';
import { InboundTopicAliases, OutboundTopicAliases } from './topic-aliases.js';
import { PacketIdAllocator } from './packet-id-allocator.js';
import { OrderedReplies } from './ordered-replies.js';
import { reasonOf } from '../test-support/protocol-errors.js';


describe('InboundTopicAliases', () => {
  it('records an alias with its topic and resolves it on later PUBLISHes with an empty topic', () => {
    const aliases = new InboundTopicAliases(4);
    expect(aliases.resolve('a/b', 2)).toBe('a/b');
    expect(aliases.resolve('', 2)).toBe('a/b');
    expect(aliases.resolve('c', 2)).toBe('c');
    expect(aliases.resolve('', 2)).toBe('c');
  });

  it.each([
    ['alias 0', 'a', 0, ReasonCode.TopicAliasInvalid],
    ['alias above the maximum', 'a', 5, ReasonCode.TopicAliasInvalid],
    ['unknown alias with empty topic', '', 3, ReasonCode.ProtocolError],
    ['empty topic without alias', '', undefined, ReasonCode.ProtocolError],
  ])('rejects %s', (_name, topic, alias, code) => {
    expect(reasonOf(() => new InboundTopicAliases(4).resolve(topic, alias))).toBe(code);
  });
});

describe('OutboundTopicAliases', () => {
  it('assigns aliases up to the client maximum and sends the topic in full afterwards', () => {
    const aliases = new OutboundTopicAliases(2);
    expect(aliases.apply('a')).toEqual({ topic: 'a', alias: 1 });
    expect(aliases.apply('a')).toEqual({ topic: '', alias: 1 });
    expect(aliases.apply('b')).toEqual({ topic: 'b', alias: 2 });
    expect(aliases.apply('c')).toEqual({ topic: 'c' });
  });

  it('never aliases when the client allows none', () => {
    expect(new OutboundTopicAliases(0).apply('a')).toEqual({ topic: 'a' });
  });
});

describe('PacketIdAllocator', () => {
  it('never hands out 0 or an identifier still in use, and reports exhaustion', () => {
    const ids = new PacketIdAllocator();
    const seen = new Set<number>();
    for (let i = 0; i < 65_535; i++) {
      const id = ids.allocate();
      expect(id).toBeDefined();
      seen.add(id ?? 0);
    }
    expect(seen.has(0)).toBe(false);
    expect(seen.size).toBe(65_535);
    expect(ids.allocate()).toBeUndefined();
    ids.release(7);
    expect(ids.allocate()).toBe(7);
  });
});

describe('OrderedReplies', () => {
  it('emits replies in reservation order whatever order they complete in', () => {
    const out: number[] = [];
    const replies = new OrderedReplies<number>((n) => out.push(n));
    const first = replies.reserve();
    const second = replies.reserve();
    const third = replies.reserve();
    third(3);
    second(2);
    expect(out).toEqual([]);
    first(1);
    expect(out).toEqual([1, 2, 3]);
    expect(replies.size).toBe(0);
  });
});

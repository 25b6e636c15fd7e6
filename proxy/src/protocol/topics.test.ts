import { describe, expect, it } from '@jest/globals';
import { ReasonCode } from './reason-codes.js';
import { reasonOf } from '../test-support/protocol-errors.js';
import {
  isWildcardFilter,
  parseSharedSubscription,
  topicMatchesFilter,
  validateTopicFilter,
  validateTopicName,
  type TopicLimits,
} from './topics.js';

const limits: TopicLimits = { maxTopicLengthBytes: 16, maxTopicLevels: 4 };

/** Runs fn and returns the ProtocolError it throws (fails the test when it throws nothing else). */

describe('validateTopicName', () => {
  it.each([
    ['a'],
    ['a/b/c/d'],
    ['/'],
    ['a//b'],
    ['$SYS/x'],
    ['a.b/c.d'],
    ['a*b/>c'], // `*` and `>` inside a level are plain characters in NATS too
    ['é'.repeat(8)], // 16 UTF-8 bytes exactly
    ['😀😀😀😀'], // a surrogate pair is 4 UTF-8 bytes: 16 exactly
    ['a\uFEFFb'], // U+FEFF is allowed in the middle [MQTT-1.5.4-3]
  ])('accepts %j', (topic) => {
    expect(() => validateTopicName(topic, limits)).not.toThrow();
  });

  it.each([
    ['', 'empty'],
    ['a/+', 'single-level wildcard'],
    ['a/#', 'multi-level wildcard'],
    ['a+b', 'wildcard character inside a level'],
    ['a'.repeat(17), 'too long (17 bytes)'],
    ['é'.repeat(8) + 'a', 'too long in UTF-8 bytes though 9 code units'],
    ['😀😀😀😀a', 'too long: four-byte characters'],
    ['a/b/c/d/e', 'too many levels'],
    ['////', 'too many (empty) levels'],
    ['a b', 'a space (a NATS subject cannot carry it)'],
    ['a\tb', 'a tab'],
    ['a\u007fb', 'DEL'],
    ['a/*', "a level '*' alone (a NATS wildcard token)"],
    ['>/a', "a level '>' alone (a NATS wildcard token)"],
  ])('rejects %j (%s) with TopicNameInvalid', (topic) => {
    expect(reasonOf(() => validateTopicName(topic, limits))).toBe(ReasonCode.TopicNameInvalid);
  });
});

describe('validateTopicFilter', () => {
  it.each([['#'], ['+'], ['a/#'], ['a/+/b'], ['+/+'], ['/+'], ['+/'], ['a//#'], ['$SYS/#'], ['$share/g/a']])(
    'accepts %j',
    (filter) => {
      expect(() => validateTopicFilter(filter, limits)).not.toThrow();
    },
  );

  it.each([
    ['', 'empty'],
    ['a/#/b', "'#' not last"],
    ['a#', "'#' not alone in its level"],
    ['#a', "'#' not alone in its level"],
    ['a/b#', "'#' not alone in its level"],
    ['##', "'#' twice"],
    ['a/*/b', "a level '*' alone (would widen to a NATS wildcard)"],
    ['a/>', "a level '>' alone (would widen to a NATS wildcard)"],
    ['a b/#', 'a space'],
    ['a+', "'+' not alone in its level"],
    ['+a/b', "'+' not alone in its level"],
    ['a/+b/c', "'+' not alone in its level"],
    ['++', "'+' twice in a level"],
    ['a'.repeat(17), 'too long'],
    ['+/+/+/+/#', 'too many levels'],
  ])('rejects %j (%s) with TopicFilterInvalid', (filter) => {
    expect(reasonOf(() => validateTopicFilter(filter, limits))).toBe(ReasonCode.TopicFilterInvalid);
  });
});

describe('ill-formed UTF-8 and U+0000 in a topic name or filter', () => {
  it.each([
    ['a\u0000b', 'U+0000 [MQTT-1.5.4-2]'],
    ['a\uFFFDb', 'U+FFFD, what a lenient decoder leaves for invalid UTF-8 [MQTT-1.5.4-1]'],
    ['a\uD800b', 'a lone high surrogate [MQTT-1.5.4-1]'],
    ['a\uDC00', 'a lone low surrogate [MQTT-1.5.4-1]'],
  ])('rejects %j (%s) as a Malformed Packet, in a name and in a filter', (text) => {
    expect(reasonOf(() => validateTopicName(text, limits))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => validateTopicFilter(`${text}/#`, limits))).toBe(ReasonCode.MalformedPacket);
  });
});

describe('parseSharedSubscription', () => {
  it.each([
    ['$share/g/a/b', { group: 'g', filter: 'a/b' }],
    ['$share/group-1/#', { group: 'group-1', filter: '#' }],
    ['$share/g/+/x', { group: 'g', filter: '+/x' }],
    ['$share/g//a', { group: 'g', filter: '/a' }],
    ['$share/g/$share/x', { group: 'g', filter: '$share/x' }],
  ])('splits %j', (input, expected) => {
    expect(parseSharedSubscription(input)).toEqual(expected);
  });

  it.each([['a/b'], ['#'], ['$share'], ['$SHARE/g/a'], ['$shared/g/a'], ['x/$share/g/a']])(
    'returns undefined for the normal filter %j',
    (filter) => {
      expect(parseSharedSubscription(filter)).toBeUndefined();
    },
  );

  it.each([
    ['$share/', 'no share name, no filter'],
    ['$share//a', 'empty share name [MQTT-4.8.2-1]'],
    ['$share/g', 'no filter'],
    ['$share/g/', 'empty filter'],
    ['$share/g+/a', "'+' in the share name [MQTT-4.8.2-2]"],
    ['$share/#/a', "'#' in the share name [MQTT-4.8.2-2]"],
    ['$share/+/a', "'+' as the share name [MQTT-4.8.2-2]"],
  ])('rejects %j (%s) with TopicFilterInvalid', (filter) => {
    expect(reasonOf(() => parseSharedSubscription(filter))).toBe(ReasonCode.TopicFilterInvalid);
  });
});

describe('topicMatchesFilter', () => {
  it.each([
    ['a', 'a', true],
    ['a', 'b', false],
    ['a/b', 'a/b', true],
    ['a/b', 'a', false],
    ['a', 'a/b', false],
    ['a/b', 'a/+', true],
    ['a/b/c', 'a/+', false],
    ['a', 'a/+', false],
    ['a/', 'a/+', true], // '+' matches an empty level
    ['/a', '+/a', true],
    ['/', '+/+', true],
    ['/', '+', false],
    ['a', '+', true],
    ['a', '#', true],
    ['a/b/c', '#', true],
    ['/', '#', true],
    ['a', 'a/#', true], // '#' also matches the parent level
    ['a/', 'a/#', true],
    ['a/b/c', 'a/#', true],
    ['ab', 'a/#', false],
    ['b', 'a/#', false],
    ['a/b/c', 'a/+/#', true],
    ['a/b', 'a/+/#', true],
    ['a', 'a/+/#', false],
    ['a/x/b', 'a/+/b', true],
    ['a/x/c', 'a/+/b', false],
    ['a//b', 'a/+/b', true],
    ['a//b', 'a//b', true],
    ['$SYS/x', '#', false], // [MQTT-4.7.2-1]
    ['$SYS/x', '+/x', false], // [MQTT-4.7.2-1]
    ['$SYS/x', '$SYS/#', true],
    ['$SYS/x', '$SYS/+', true],
    ['a/$x', 'a/+', true], // only the first level is special
    ['sport/tennis/player1', 'sport/tennis/player1/#', true],
    ['sport/tennis/player1/ranking', 'sport/tennis/player1/#', true],
    ['sport', 'sport/#', true],
    ['sport/', 'sport/+', true],
  ])('%j against %j → %s', (topic, filter, expected) => {
    expect(topicMatchesFilter(topic, filter)).toBe(expected);
  });
});

describe('isWildcardFilter', () => {
  it.each([
    ['a/b', false],
    ['/', false],
    ['+', true],
    ['#', true],
    ['a/+/b', true],
    ['a/#', true],
  ])('%j → %s', (filter, expected) => {
    expect(isWildcardFilter(filter)).toBe(expected);
  });
});

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ReasonCode } from '../protocol/reason-codes.js';
import { topicMatchesFilter } from '../protocol/topics.js';
import { filterToSubjects, LIVE_SUBJECT_PREFIX, subjectToTopic, topicToSubject } from './subject-mapping.js';
import { reasonOf } from '../test-support/protocol-errors.js';

// Vectors of nats-server's TestMQTTTopicAndSubjectConversion (server/mqtt_test.go): [topic, subject].
const natsServerTopicVectors: [string, string][] = [
  ['/', '/./'],
  ['//', '/././'],
  ['///', '/./././'],
  ['////', '/././././'],
  ['foo', 'foo'],
  ['/foo', '/.foo'],
  ['//foo', '/./.foo'],
  ['///foo', '/././.foo'],
  ['///foo/', '/././.foo./'],
  ['///foo//', '/././.foo././'],
  ['///foo///', '/././.foo./././'],
  ['//.foo.//', '/././/foo//././'],
  ['foo/bar', 'foo.bar'],
  ['/foo/bar', '/.foo.bar'],
  ['/foo/bar/', '/.foo.bar./'],
  ['foo/bar/baz', 'foo.bar.baz'],
  ['/foo/bar/baz', '/.foo.bar.baz'],
  ['/foo/bar/baz/', '/.foo.bar.baz./'],
  ['bar/', 'bar./'],
  ['bar//', 'bar././'],
  ['bar///', 'bar./././'],
  ['foo//bar', 'foo./.bar'],
  ['foo///bar', 'foo././.bar'],
  ['foo////bar', 'foo./././.bar'],
  ['.', '//'],
  ['..', '////'],
  ['...', '//////'],
  ['./', '//./'],
  ['.//.', '//././/'],
  ['././.', '//.//.//'],
  ['././/.', '//.//././/'],
  ['.foo', '//foo'],
  ['foo.', 'foo//'],
  ['.foo.', '//foo//'],
  ['foo../bar/', 'foo////.bar./'],
  ['foo../bar/.', 'foo////.bar.//'],
  ['/foo/', '/.foo./'],
  ['./foo/.', '//.foo.//'],
  ['foo.bar/baz', 'foo//bar.baz'],
];

// Vectors of nats-server's TestMQTTFilterConversion: [filter, the subject nats-server subscribes].
const natsServerFilterVectors: [string, string][] = [
  ['+', '*'],
  ['/+', '/.*'],
  ['+/', '*./'],
  ['/+/', '/.*./'],
  ['foo/+', 'foo.*'],
  ['foo/+/', 'foo.*./'],
  ['foo/+/bar', 'foo.*.bar'],
  ['foo/+/+', 'foo.*.*'],
  ['foo/+/+/', 'foo.*.*./'],
  ['foo/+/+/bar', 'foo.*.*.bar'],
  ['foo//+', 'foo./.*'],
  ['foo//+/', 'foo./.*./'],
  ['foo//+//', 'foo./.*././'],
  ['foo//+//bar', 'foo./.*./.bar'],
  ['foo///+///bar', 'foo././.*././.bar'],
  ['foo.bar///+///baz', 'foo//bar././.*././.baz'],
  ['#', '>'],
  ['/#', '/.>'],
  ['/foo/#', '/.foo.>'],
  ['foo/#', 'foo.>'],
  ['foo//#', 'foo./.>'],
  ['foo///#', 'foo././.>'],
  ['foo/bar/#', 'foo.bar.>'],
  ['foo/bar.baz/#', 'foo.bar//baz.>'],
];


describe('topicToSubject / subjectToTopic', () => {
  it('uses the live prefix of DESIGN.md', () => {
    expect(LIVE_SUBJECT_PREFIX).toBe('mqtt.');
  });

  it.each(natsServerTopicVectors)('%j ⇄ %j (nats-server vector)', (topic, subject) => {
    expect(topicToSubject(topic)).toBe(subject);
    expect(subjectToTopic(subject)).toBe(topic);
  });

  it.each([['foo bar'], ['a\tb'], ['a\nb'], ['a\rb'], ['a\fb'], ['a\u007fb'], ['']])(
    'rejects %j with TopicNameInvalid',
    (topic) => {
      expect(reasonOf(() => topicToSubject(topic))).toBe(ReasonCode.TopicNameInvalid);
    },
  );

  it.each([
    ['a/x', 'ax'], // a '/' that is not part of the encoding is dropped, as nats-server drops it
    ['a.b/', 'a/b'],
    ['x.y.z', 'x/y/z'],
    ['$SYS.x', '$SYS/x'],
    ['ü.日本', 'ü/日本'],
  ])('maps the plain NATS subject %j to %j like nats-server', (subject, topic) => {
    expect(subjectToTopic(subject)).toBe(topic);
  });
});

describe('filterToSubjects', () => {
  it.each(natsServerFilterVectors)('%j → %j first (nats-server vector)', (filter, subject) => {
    expect(filterToSubjects(filter)[0]).toBe(subject);
  });

  it.each([
    ['#', ['>']],
    ['a/#', ['a.>', 'a']],
    ['/#', ['/.>', '/']],
    ['a//#', ['a./.>', 'a./']],
    ['+/#', ['*.>', '*']],
    ['a/b', ['a.b']],
    ['a/+', ['a.*']],
    ['a.b/#', ['a//b.>', 'a//b']],
  ])('%j → %j (with the parent for a trailing #)', (filter, subjects) => {
    expect(filterToSubjects(filter)).toEqual(subjects);
  });

  it.each([['a b/#'], ['+/\t'], ['']])('rejects %j with TopicFilterInvalid', (filter) => {
    expect(reasonOf(() => filterToSubjects(filter))).toBe(ReasonCode.TopicFilterInvalid);
  });
});

// ---- properties ------------------------------------------------------------------------------

/** NATS subject matching: `*` is one token, `>` (last) one or more tokens. */
function natsMatches(subject: string, pattern: string): boolean {
  const s = subject.split('.');
  const p = pattern.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return s.length === p.length;
}

// Characters that exercise the encoding ('.', '$', unicode) without those NATS reserves: whitespace,
// and '*' / '>' (a level made of one of them would read as a NATS wildcard; see docs/ring.md).
const levelChar = fc.constantFrom('a', 'b', 'c', '.', '$', '-', '_', 'é', '日', '😀');
const level = fc.array(levelChar, { maxLength: 4 }).map((chars) => chars.join(''));
const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((levels) => levels.join('/')).filter((t) => t.length > 0);
const filterLevel = fc.oneof({ weight: 3, arbitrary: level }, { weight: 1, arbitrary: fc.constant('+') });
const filter = fc
  .tuple(fc.array(filterLevel, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .filter((f) => f.length > 0);

describe('properties', () => {
  it('subjectToTopic inverts topicToSubject for every topic without whitespace', () => {
    fc.assert(
      fc.property(topic, (t) => subjectToTopic(topicToSubject(t)) === t),
      { numRuns: 2000 },
    );
  });

  it('filterToSubjects matches in NATS exactly what topicMatchesFilter matches in MQTT (but for $)', () => {
    const pair = fc.oneof(
      fc.tuple(topic, filter),
      // Bias towards matches: derive the filter from the topic.
      topic.chain((t) =>
        fc
          .tuple(fc.array(fc.nat(2), { minLength: t.split('/').length, maxLength: t.split('/').length }), fc.nat(t.split('/').length))
          .map(([ops, cut]) => {
            const levels = t.split('/').map((l, i) => (ops[i] === 0 ? '+' : l));
            return [t, cut < levels.length && cut > 0 ? [...levels.slice(0, cut), '#'].join('/') : levels.join('/')] as [string, string];
          }),
      ),
      fc.tuple(topic, fc.constant('#')),
    );
    fc.assert(
      fc.property(pair, ([t, f]) => {
        const mqtt = topicMatchesFilter(t, f);
        const nats = filterToSubjects(f).some((pattern) => natsMatches(topicToSubject(t), pattern));
        const dollarRule = t.startsWith('$') && (f.startsWith('+') || f.startsWith('#'));
        // [MQTT-4.7.2-1] is the broker's job: NATS matches as if the first level had no '$'.
        return dollarRule ? !mqtt && nats === topicMatchesFilter(`_${t.slice(1)}`, f) : mqtt === nats;
      }),
      { numRuns: 5000 },
    );
  });
});

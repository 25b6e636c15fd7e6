import { describe, expect, it } from '@jest/globals';
import type { AclRuleConfig } from '../config/auth-schema.js';
import { aclFilterOf, ClientAccess } from './acl.js';
import { filterCovered, filtersOverlap, topicMatches } from './acl-topics.js';

const allow = (action: AclRuleConfig['action'], topic: string): AclRuleConfig => ({ permission: 'allow', action, topic });
const deny = (action: AclRuleConfig['action'], topic: string): AclRuleConfig => ({ permission: 'deny', action, topic });
const levels = (text: string): string[] => text.split('/');

describe('topic relations', () => {
  it.each([
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
  ])('pattern %s matches topic %s: %s', (pattern, topic, expected) => {
    expect(topicMatches(levels(pattern), levels(topic))).toBe(expected);
  });

  it.each([
    ['a/#', 'a/#', true],
    ['a/#', 'a/+/c', true],
    ['a/#', 'a', true],
    ['a/+', 'a/#', false],
    ['a/+', 'a/+', true],
    ['a/b', 'a/+', false],
    ['+/b', 'x/b', true],
    ['#', '$SYS/#', false],
  ])('pattern %s covers filter %s: %s', (pattern, filter, expected) => {
    expect(filterCovered(levels(pattern), levels(filter))).toBe(expected);
  });

  it.each([
    ['secret/#', '#', true],
    ['secret/#', '+/x', true],
    ['secret/#', 'public/#', false],
    ['a/b', 'a/+/c', false],
    ['a', 'a/#', true],
    ['#', '$SYS/x', false],
  ])('filters %s and %s overlap: %s', (a, b, expected) => {
    expect(filtersOverlap(levels(a), levels(b))).toBe(expected);
    expect(filtersOverlap(levels(b), levels(a))).toBe(expected);
  });
});

describe('ClientAccess', () => {
  const device = (clientId: string, username?: string, rules: AclRuleConfig[] = [allow('all', 'devices/%c/#'), allow('subscribe', 'users/%u/+')]): ClientAccess =>
    ClientAccess.of([rules], { clientId, username });

  it('allows everything when no rule is configured anywhere', () => {
    const access = ClientAccess.of([undefined, undefined], { clientId: 'c', username: undefined });
    expect(access.restricted).toBe(false);
    expect(access.mayPublish('anything')).toBe(true);
    expect(access.maySubscribe('#')).toBe(true);
  });

  it('denies everything when the rule list is present but empty', () => {
    const access = ClientAccess.of([[]], { clientId: 'c', username: undefined });
    expect(access.mayPublish('a')).toBe(false);
    expect(access.maySubscribe('a')).toBe(false);
  });

  it('fills %c and %u, and denies what no rule allows', () => {
    const access = device('d1', 'alice');
    expect(access.mayPublish('devices/d1/telemetry')).toBe(true);
    expect(access.mayPublish('devices/d2/telemetry')).toBe(false);
    expect(access.maySubscribe('devices/d1/#')).toBe(true);
    expect(access.maySubscribe('devices/+/telemetry')).toBe(false);
    expect(access.maySubscribe('users/alice/inbox')).toBe(true);
    expect(access.mayPublish('users/alice/inbox')).toBe(false);
  });

  it.each(['+', '#', 'a/b', 'd+', ''])('a client id of %p matches no %%c rule (it never widens a placeholder)', (clientId) => {
    const access = device(clientId);
    expect(access.mayPublish('devices/x/t')).toBe(false);
    expect(access.mayPublish(`devices/${clientId}/t`)).toBe(false);
    expect(access.maySubscribe('devices/#')).toBe(false);
    expect(access.maySubscribe('devices/+/#')).toBe(false);
  });

  it.each(['#', '+', 'a/b'])('a username of %p matches no %%u rule', (username) => {
    const access = device('d1', username);
    expect(access.maySubscribe('users/x/inbox')).toBe(false);
    expect(access.maySubscribe('users/+/inbox')).toBe(false);
    expect(access.mayPublish('devices/d1/t')).toBe(true); // the %c rule still applies
  });

  it('an anonymous client (no username) matches no %u rule', () => {
    expect(device('d1', undefined).maySubscribe('users/undefined/inbox')).toBe(false);
  });

  it('takes the first matching rule: a deny before an allow carves topics out', () => {
    const access = ClientAccess.of([[deny('all', 'secret/#'), allow('all', '#')]], { clientId: 'c', username: undefined });
    expect(access.mayPublish('secret/x')).toBe(false);
    expect(access.mayPublish('public/x')).toBe(true);
    // a subscription that could receive a denied topic is refused
    expect(access.maySubscribe('#')).toBe(false);
    expect(access.maySubscribe('+/x')).toBe(false);
    expect(access.maySubscribe('public/#')).toBe(true);
  });

  it('checks a shared subscription by its filter without $share/<group>/', () => {
    expect(aclFilterOf('$share/g1/devices/d1/#')).toBe('devices/d1/#');
    const access = device('d1');
    expect(access.maySubscribe('$share/g1/devices/d1/#')).toBe(true);
    expect(access.maySubscribe('$share/g1/devices/d2/#')).toBe(false);
  });

  it('checks retained messages topic by topic', () => {
    const access = ClientAccess.of([[deny('subscribe', 'devices/d1/secret'), allow('subscribe', 'devices/d1/#')]], { clientId: 'd1', username: undefined });
    expect(access.mayReceive('devices/d1/public')).toBe(true);
    expect(access.mayReceive('devices/d1/secret')).toBe(false);
  });

  it('puts the claim rules before the chain rules', () => {
    const access = ClientAccess.of([[deny('publish', 'devices/%c/admin')], [allow('all', 'devices/%c/#')]], { clientId: 'd1', username: undefined });
    expect(access.mayPublish('devices/d1/admin')).toBe(false);
    expect(access.mayPublish('devices/d1/t')).toBe(true);
  });
});

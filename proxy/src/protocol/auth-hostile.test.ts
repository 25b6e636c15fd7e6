// Hostile input against authentication, ACLs and the connect-rate and slow-read limits, through the protocol
// harness (real ClientHandler and Connection, raw MQTT clients): each case ends in the reason code the spec names
// (v5) or the v3.1.1 return code, and/or a close; nothing crashes.
import { createSecretKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { signJwt } from '../auth/jwt-sign.js';
import { ListenerSecurity } from '../auth/listener-security.js';
import { hashPassword } from '../auth/password-hash.js';
import type { AuthChainConfig } from '../config/auth-schema.js';
import { silentLogger } from '../observability/logger.js';
import { ProtocolHarness, type TestClient } from '../test-support/protocol-harness.js';
import { noMetrics, type ProtocolMetrics } from './ports.js';
import { ConnackReturnCode, ReasonCode, SubackFailure311 } from './reason-codes.js';

const secret = createSecretKey(randomBytes(32));
const NOW_S = 1_700_000_000; // the harness's ManualClock starts here
const token = (claims: Record<string, unknown>): string => signJwt({ exp: NOW_S + 600, ...claims }, 'HS256', secret, 'k1');
const deviceToken = (clientId: string): string => token({ sub: clientId, cid: clientId });

let dir: string;
let security: ListenerSecurity;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-auth-'));
  writeFileSync(join(dir, 'users'), `alice:${await hashPassword('wonderland', 'pbkdf2-sha256', { iterations: 1_000 })}\n`);
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ kty: 'oct', kid: 'k1', k: secret.export().toString('base64url') }] }));
  const chain: AuthChainConfig = {
    authenticators: [
      { type: 'password-file', file: join(dir, 'users') },
      { type: 'jwt', jwksFile: join(dir, 'jwks.json'), algorithms: ['HS256'], clockSkewSeconds: 30, usernameClaim: 'sub', clientIdClaim: 'cid', aclClaim: 'acl' },
    ],
    acl: [
      { permission: 'allow', action: 'all', topic: 'devices/%c/#' },
      { permission: 'allow', action: 'all', topic: 'users/%u/#' },
    ],
  };
  security = await ListenerSecurity.load(chain, silentLogger());
});
afterAll(() => {
  security.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Metrics that remember what the security paths counted. */
function recordingMetrics(): ProtocolMetrics & { readonly seen: string[] } {
  const seen: string[] = [];
  return {
    ...noMetrics,
    seen,
    authFailed: (reason) => seen.push(`auth:${reason}`),
    aclDenied: (action) => seen.push(`acl:${action}`),
    connectRateLimited: (scope) => seen.push(`rate:${scope}`),
    slowReaderClosed: () => seen.push('slow-reader'),
  };
}

let harness: ProtocolHarness;
let metrics: ReturnType<typeof recordingMetrics>;
afterEach(async () => harness.close());
const start = (limits: Record<string, number> = {}): ProtocolHarness => {
  metrics = recordingMetrics();
  harness = new ProtocolHarness({ security, metrics, limits, connectRate: true });
  return harness;
};

/** A CONNECT whose CONNACK carries `code`, after which the server closes. */
async function refusedConnect(version: 4 | 5, fields: Record<string, unknown>, code: number, remote = 'test'): Promise<void> {
  const client = start().client(version, remote);
  const connack = await client.connect({ clientId: 'd1', ...fields });
  expect(version === 5 ? connack.reasonCode : connack.returnCode).toBe(code);
  expect(await client.next()).toBeUndefined();
}

const connectedDevice = async (version: 4 | 5, clientId = 'd1'): Promise<TestClient> => {
  const client = harness.client(version);
  const connack = await client.connect({ clientId, username: clientId, password: Buffer.from(deviceToken(clientId)) });
  expect(version === 5 ? connack.reasonCode : connack.returnCode).toBe(0);
  return client;
};

describe('authentication refusals', () => {
  it.each([
    ['v5: a wrong password for a known user', 5, { username: 'alice', password: Buffer.from('rabbit') }, ReasonCode.BadUserNameOrPassword, 'auth:bad-password'],
    ['v3: a wrong password for a known user', 4, { username: 'alice', password: Buffer.from('rabbit') }, ConnackReturnCode.BadUserNameOrPassword, 'auth:bad-password'],
    ['v5: no credentials (anonymous is off)', 5, {}, ReasonCode.NotAuthorized, 'auth:no-match'],
    ['v3: no credentials (anonymous is off)', 4, {}, ConnackReturnCode.NotAuthorized, 'auth:no-match'],
    ['v5: an unknown user', 5, { username: 'mallory', password: Buffer.from('x') }, ReasonCode.BadUserNameOrPassword, 'auth:no-match'],
    ['v5: an expired JWT', 5, { username: 'd1', password: Buffer.from(token({ sub: 'd1', cid: 'd1', exp: NOW_S - 60 })) }, ReasonCode.BadUserNameOrPassword, 'auth:jwt-expired'],
    ['v5: a JWT signed with another key', 5, { username: 'd1', password: Buffer.from(signJwt({ sub: 'd1', cid: 'd1', exp: NOW_S + 60 }, 'HS256', createSecretKey(randomBytes(32)), 'k1')) }, ReasonCode.BadUserNameOrPassword, 'auth:jwt-signature'],
    ['v5: a JWT with alg none', 5, { username: 'd1', password: Buffer.from(`${Buffer.from('{"alg":"none","kid":"k1"}').toString('base64url')}.${Buffer.from('{"sub":"d1"}').toString('base64url')}.eA`) }, ReasonCode.BadUserNameOrPassword, 'auth:jwt-algorithm'],
    ['v5: a JWT issued to another client id', 5, { username: 'd1', password: Buffer.from(deviceToken('d2')) }, ReasonCode.NotAuthorized, 'auth:jwt-client-id'],
    ['v3: a JWT issued to another client id', 4, { username: 'd1', password: Buffer.from(deviceToken('d2')) }, ConnackReturnCode.NotAuthorized, 'auth:jwt-client-id'],
    ['v5: a JWT whose ACL claim is not a rule list', 5, { username: 'd1', password: Buffer.from(token({ sub: 'd1', cid: 'd1', acl: 'allow everything' })) }, ReasonCode.NotAuthorized, 'auth:jwt-claims'],
    ['v5: a will on a topic the client may not publish', 5, { username: 'd1', password: Buffer.from(deviceToken('d1')), will: { topic: 'devices/d2/status', payload: Buffer.from('x'), qos: 0, retain: false } }, ReasonCode.NotAuthorized, 'auth:will-denied'],
    ['v3: a will on a topic the client may not publish', 4, { username: 'd1', password: Buffer.from(deviceToken('d1')), will: { topic: '$SYS/x', payload: Buffer.from('x'), qos: 0, retain: false } }, ConnackReturnCode.NotAuthorized, 'auth:will-denied'],
  ] as const)('%s', async (_what, version, fields, code, counted) => {
    await refusedConnect(version, fields, code);
    expect(metrics.seen).toEqual([counted]);
  });

  it('accepts the right password and a good JWT, and a will inside the ACL', async () => {
    start();
    const alice = harness.client(5);
    expect((await alice.connect({ clientId: 'a', username: 'alice', password: Buffer.from('wonderland') })).reasonCode).toBe(ReasonCode.Success);
    const device = harness.client(4);
    const will = { topic: 'devices/d1/status', payload: Buffer.from('gone'), qos: 0 as const, retain: false };
    expect((await device.connect({ clientId: 'd1', username: 'd1', password: Buffer.from(deviceToken('d1')), will })).returnCode).toBe(0);
  });
});

describe('ACL refusals', () => {
  it('v5: a PUBLISH outside the ACL gets PUBACK / PUBREC 0x87, QoS 0 is dropped, and the connection stays', async () => {
    start();
    const watcher = await connectedDevice(5, 'd2');
    expect((await watcher.subscribe([{ topic: 'devices/d2/#', qos: 0 }])).granted).toEqual([0]);
    const device = await connectedDevice(5);
    device.publish('devices/d2/cmd', 'q0');
    device.publish('devices/d2/cmd', 'q1', { qos: 1, messageId: 1 });
    device.publish('devices/d2/cmd', 'q2', { qos: 2, messageId: 2 });
    expect((await device.expect('puback')).reasonCode).toBe(ReasonCode.NotAuthorized);
    expect((await device.expect('pubrec')).reasonCode).toBe(ReasonCode.NotAuthorized);
    await device.ping();
    expect(await watcher.drain()).toEqual([]);
    expect(metrics.seen).toEqual(['acl:publish', 'acl:publish', 'acl:publish']);
  });

  it('v3: a PUBLISH outside the ACL is acknowledged as usual [MQTT-3.3.5-2], dropped and counted', async () => {
    start();
    const watcher = await connectedDevice(5, 'd2');
    await watcher.subscribe([{ topic: 'devices/d2/#', qos: 1 }]);
    const device = await connectedDevice(4);
    device.publish('devices/d2/cmd', 'x', { qos: 1, messageId: 7 });
    expect(await device.expect('puback')).toMatchObject({ messageId: 7 });
    device.publish('devices/d2/cmd', 'x', { qos: 2, messageId: 8 });
    expect(await device.expect('pubrec')).toMatchObject({ messageId: 8 });
    device.send({ cmd: 'pubrel', messageId: 8 });
    expect(await device.expect('pubcomp')).toMatchObject({ messageId: 8 });
    expect(await watcher.drain()).toEqual([]);
    expect(metrics.seen).toEqual(['acl:publish', 'acl:publish']);
  });

  it('a PUBLISH inside the ACL is delivered', async () => {
    start();
    const device = await connectedDevice(5);
    await device.subscribe([{ topic: 'devices/d1/#', qos: 0 }]);
    device.publish('devices/d1/t', 'hello');
    expect((await device.expect('publish')).payload.toString()).toBe('hello');
  });

  it('a SUBSCRIBE outside the ACL gets 0x87 (v5) / 0x80 (v3) per filter; a shared subscription is checked without $share', async () => {
    start();
    const v5 = await connectedDevice(5);
    const suback = await v5.subscribe([
      { topic: 'devices/d1/#', qos: 1 },
      { topic: 'devices/+/t', qos: 0 },
      { topic: '#', qos: 0 },
      { topic: '$share/g/devices/d1/#', qos: 0 },
      { topic: '$share/g/devices/d2/#', qos: 0 },
    ]);
    expect(suback.granted).toEqual([1, ReasonCode.NotAuthorized, ReasonCode.NotAuthorized, 0, ReasonCode.NotAuthorized]);
    const v3 = await connectedDevice(4, 'd3');
    expect((await v3.subscribe([{ topic: 'devices/d1/#', qos: 0 }, { topic: 'devices/d3/#', qos: 0 }])).granted).toEqual([SubackFailure311, 0]);
  });

  it('a client id of # cannot widen %c: it may not subscribe to devices/#', async () => {
    start();
    const hash = await connectedDevice(5, '#');
    expect((await hash.subscribe([{ topic: 'devices/#', qos: 0 }, { topic: 'devices/+/x', qos: 0 }])).granted).toEqual([ReasonCode.NotAuthorized, ReasonCode.NotAuthorized]);
    hash.publish('devices/x/t', 'x', { qos: 1, messageId: 1 });
    expect((await hash.expect('puback')).reasonCode).toBe(ReasonCode.NotAuthorized);
  });

  it('retained messages of other devices are not delivered through a refused wildcard', async () => {
    start();
    const other = await connectedDevice(5, 'd2');
    other.publish('devices/d2/state', 'secret', { qos: 1, messageId: 1, retain: true });
    await other.expect('puback');
    const device = await connectedDevice(5);
    expect((await device.subscribe([{ topic: 'devices/+/state', qos: 0 }])).granted).toEqual([ReasonCode.NotAuthorized]);
    expect((await device.subscribe([{ topic: 'devices/d1/#', qos: 0 }], undefined, 2)).granted).toEqual([0]);
    expect(await device.drain()).toEqual([]);
  });
});

describe('connect-rate limits and slow readers', () => {
  it('a brute-force CONNECT flood from one address is refused with 0x9F after the burst, before any password is checked', async () => {
    start({ connectRatePerAddress: 1, connectBurstPerAddress: 5 });
    const answers: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const client = harness.client(5, `203.0.113.9:${40_000 + i}`);
      answers.push((await client.connect({ clientId: `x${i}`, username: 'alice', password: Buffer.from(`guess-${i}`) })).reasonCode ?? -1);
      expect(await client.next()).toBeUndefined();
    }
    expect(answers.slice(0, 5)).toEqual(Array(5).fill(ReasonCode.BadUserNameOrPassword));
    expect(answers.slice(5)).toEqual(Array(25).fill(ReasonCode.ConnectionRateExceeded));
    expect(metrics.seen.filter((s) => s === 'auth:bad-password')).toHaveLength(5);
    expect(metrics.seen.filter((s) => s === 'rate:address')).toHaveLength(25);
    // another address is not affected; a v3.1.1 client of the flooding address gets return code 3
    const other = harness.client(5, '198.51.100.1:1');
    expect((await other.connect({ clientId: 'a', username: 'alice', password: Buffer.from('wonderland') })).reasonCode).toBe(ReasonCode.Success);
    const v3 = harness.client(4, '203.0.113.9:1');
    expect((await v3.connect({ clientId: 'v3', username: 'alice', password: Buffer.from('wonderland') })).returnCode).toBe(ConnackReturnCode.ServerUnavailable);
  });

  it('the proxy-wide bucket refuses a flood spread over many addresses', async () => {
    start({ connectRatePerProxy: 1, connectBurstPerProxy: 3 });
    const answers: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const client = harness.client(5, `10.0.0.${i}:1`);
      answers.push((await client.connect({ clientId: `x${i}`, username: `x${i}`, password: Buffer.from(deviceToken(`x${i}`)) })).reasonCode ?? -1);
    }
    expect(answers).toEqual([0, 0, 0, ReasonCode.ConnectionRateExceeded, ReasonCode.ConnectionRateExceeded, ReasonCode.ConnectionRateExceeded]);
  });

  it('a subscriber that stops reading is closed once its socket stayed backed up for slowReadTimeoutMs, and counted', async () => {
    start({ slowReadTimeoutMs: 300, maxQueuedMessages: 100_000 });
    const reader = await connectedDevice(5, 'slow');
    await reader.subscribe([{ topic: 'devices/slow/#', qos: 0 }]);
    const healthy = await connectedDevice(5, 'fast');
    reader.stopReading();
    // the ACL lets only the reader publish under devices/slow/: it floods itself, its QoS 0 messages come back to it
    const payload = Buffer.alloc(4_096, 0x61);
    for (let i = 0; i < 200; i += 1) reader.publish('devices/slow/t', payload);
    const started = Date.now();
    await reader.closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(metrics.seen).toContain('slow-reader');
    await healthy.ping(); // the others are not affected
  });
});

describe('Resumed sessions and narrowed rights', () => {
  it('a resumed session loses the subscriptions its new rights no longer allow (CVE-2021-34434)', async () => {
    start();
    const persistent = { clean: false, properties: { sessionExpiryInterval: 600 } };
    const wide = token({ sub: 'r1', cid: 'r1', acl: [{ permission: 'allow', action: 'all', topic: 'shared/#' }] });
    const narrow = token({ sub: 'r1', cid: 'r1', acl: [{ permission: 'allow', action: 'all', topic: 'devices/r1/#' }] });
    const first = harness.client(5);
    await first.connect({ clientId: 'r1', username: 'r1', password: Buffer.from(wide), ...persistent });
    expect((await first.subscribe([{ topic: 'shared/#', qos: 1 }])).granted).toEqual([1]);
    first.send({ cmd: 'disconnect' });
    await first.closed;
    const again = harness.client(5);
    expect((await again.connect({ clientId: 'r1', username: 'r1', password: Buffer.from(narrow), ...persistent })).sessionPresent).toBe(true);
    const pub = harness.client(5);
    await pub.connect({ clientId: 'p2', username: 'p2', password: Buffer.from(token({ sub: 'p2', cid: 'p2', acl: [{ permission: 'allow', action: 'all', topic: 'shared/#' }] })) });
    pub.publish('shared/news', 'not for r1', { qos: 1, messageId: 1 });
    expect((await pub.expect('puback')).reasonCode ?? 0).toBe(0);
    expect(await again.drain()).toEqual([]);
    expect(metrics.seen).toContain('acl:subscribe');
  });
});

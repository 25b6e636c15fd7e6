// Issue 5's "Must show": through a proxy of the local fleet (2 proxies, 3 shards, Redis), a device whose JWT
// (ES256, from a JWKS file) carries an ACL claim allowing `devices/<its client id>/#` publishes there and a
// subscriber on the other proxy receives it; elsewhere it is refused: v5 PUBACK 0x87, v3.1.1 dropped and counted
// in /metrics, and a SUBSCRIBE outside gets 0x87.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { signJwt } from '@shoal/proxy/internal';
import type { Fleet } from '../src/fleet/fleet.js';
import { httpGet } from '../src/processes/child-process.js';
import { collectMessages, connectClient, startTestFleet } from './support/test-fleet.js';

const ISSUER = 'https://issuer.shoal.test';
const AUDIENCE = 'shoal-devices';

/** The value of a counter sample in a /metrics text (0 when absent). */
async function counter(fleet: Fleet, proxy: number, sample: string): Promise<number> {
  const { body } = await httpGet(`${fleet.proxyEndpoints[proxy]?.httpUrl ?? ''}/metrics`);
  const line = body.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

/** The SUBACK code of one filter (MQTT.js rejects a refused subscription with the SUBACK packet attached). */
async function subackCode(client: MqttClient, filter: string): Promise<number | undefined> {
  try {
    return (await client.subscribeAsync(filter, { qos: 0 }))[0]?.qos;
  } catch (err: unknown) {
    return (err as { packet?: { granted?: (number | { qos: number })[] } }).packet?.granted?.map((g) => (typeof g === 'number' ? g : g.qos))[0];
  }
}

/** The MQTT reason code an MQTT.js promise was rejected with. */
async function refusalCode(action: Promise<unknown>): Promise<number | undefined> {
  try {
    await action;
  } catch (err: unknown) {
    return (err as { code?: number }).code;
  }
  return undefined;
}

describe('JWT devices through the local fleet', () => {
  let dir: string;
  let fleet: Fleet;
  let signingKey: KeyObject;
  const clients: MqttClient[] = [];
  const tokenFor = (sub: string, acl: unknown[], expiresIn = 600): string =>
    signJwt({ sub, iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + expiresIn, acl }, 'ES256', signingKey, 'fleet-key-1');
  const deviceToken = (id: string): string => tokenFor(id, [{ permission: 'allow', action: 'all', topic: `devices/${id}/#` }]);
  const connect = async (proxy: number, clientId: string, password: string, protocolVersion: 4 | 5): Promise<MqttClient> => {
    const client = await connectClient(fleet, proxy, { clientId, username: clientId, password, protocolVersion });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-jwt-'));
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    signingKey = pair.privateKey;
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: 'fleet-key-1', alg: 'ES256', use: 'sig' }] }));
    const devices = {
      authenticators: [{ type: 'jwt', jwksFile, algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE, usernameClaim: 'sub', clientIdClaim: 'sub', aclClaim: 'acl' }],
      acl: [],
    };
    fleet = await startTestFleet(2, 3, { proxyAuth: { chains: { devices }, listenerChain: 'devices' } });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a v5 device publishes under devices/<its id>/# (received on the other proxy) and is refused elsewhere with 0x87', async () => {
    const monitor = await connect(1, 'monitor', tokenFor('monitor', [{ permission: 'allow', action: 'subscribe', topic: 'devices/#' }]), 5);
    await monitor.subscribeAsync('devices/#', { qos: 1 });
    const device = await connect(0, 'dev-7', deviceToken('dev-7'), 5);
    const received = collectMessages(monitor, 2, 20_000);

    await device.publishAsync('devices/dev-7/telemetry', 'allowed', { qos: 1 });
    expect(await refusalCode(device.publishAsync('devices/dev-8/telemetry', 'refused', { qos: 1 }))).toBe(0x87);
    expect(await refusalCode(device.publishAsync('telemetry/dev-7', 'refused', { qos: 2 }))).toBe(0x87);
    expect(await subackCode(device, 'devices/dev-8/#')).toBe(0x87);
    expect(await subackCode(device, 'devices/+/telemetry')).toBe(0x87);
    await device.subscribeAsync('devices/dev-7/cmd', { qos: 1 }); // its own topics stay open
    await device.publishAsync('devices/dev-7/done', 'sentinel', { qos: 1 });

    const messages = await received;
    expect(messages.map((m) => `${m.topic}=${m.payload.toString()}`)).toEqual(['devices/dev-7/telemetry=allowed', 'devices/dev-7/done=sentinel']);
  });

  it('a v3.1.1 device publishing outside its topics is acknowledged, the message is dropped and counted in /metrics', async () => {
    const sample = 'shoal_proxy_acl_denials_total{action="publish"}';
    const before = await counter(fleet, 0, sample);
    const monitor = await connect(1, 'monitor-v3', tokenFor('monitor-v3', [{ permission: 'allow', action: 'subscribe', topic: 'devices/#' }]), 5);
    await monitor.subscribeAsync('devices/#', { qos: 1 });
    const device = await connect(0, 'dev-9', deviceToken('dev-9'), 4);
    const received = collectMessages(monitor, 1, 20_000);
    await device.publishAsync('devices/dev-8/telemetry', 'dropped', { qos: 1 }); // PUBACK as usual [MQTT-3.3.5-2]
    await device.publishAsync('devices/dev-9/telemetry', 'allowed', { qos: 1 });
    expect((await received).map((m) => m.payload.toString())).toEqual(['allowed']);
    expect((await counter(fleet, 0, sample)) - before).toBe(1);
  });

  it('refuses a CONNECT whose token is expired, signed by another key, or issued to another client id', async () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = signJwt({ sub: 'dev-7', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 }, 'ES256', stranger, 'fleet-key-1');
    const attempts: [string, string, number][] = [
      ['dev-7', tokenFor('dev-7', [], -120), 0x86],
      ['dev-7', forged, 0x86],
      ['dev-7', deviceToken('dev-8'), 0x87],
    ];
    for (const [clientId, password, code] of attempts) {
      expect(await refusalCode(connectClient(fleet, 0, { clientId, username: clientId, password, protocolVersion: 5 }))).toBe(code);
    }
    expect(await counter(fleet, 0, 'shoal_proxy_auth_failures_total{reason="jwt-expired"}')).toBe(1);
    expect(await counter(fleet, 0, 'shoal_proxy_auth_failures_total{reason="jwt-signature"}')).toBe(1);
    expect(await counter(fleet, 0, 'shoal_proxy_auth_failures_total{reason="jwt-client-id"}')).toBe(1);
  });
});

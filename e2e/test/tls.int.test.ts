// TLS listeners of a real proxy (ShoalProxy.start, one nats-server shard): MQTT over TLS and wss with MQTT.js and
// mosquitto, client certificates required and verified, and a certificate replaced on disk without a restart.
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { ProxyConfig, ShoalProxy, type ProxyConfigInput } from '@shoal/proxy';
import { startNatsServer, type RunningNatsServer } from '../src/processes/nats-server.js';
import { collectMessages } from './support/test-fleet.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'];

/** A CA (`<ca>.crt/.key`) and the leaves it signs; every file in `dir`. */
function generateCertificates(dir: string): void {
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ca = (name: string): void =>
    openssl(['req', '-x509', ...P256, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE']);
  const leaf = (name: string, signer: string, cn: string, san: string): void =>
    openssl(['req', '-x509', ...P256, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${cn}`, '-CA', `${signer}.crt`, '-CAkey', `${signer}.key`,
      '-addext', `subjectAltName=${san}`, '-addext', 'basicConstraints=critical,CA:FALSE']);
  ca('ca');
  ca('rogue-ca');
  leaf('server-1', 'ca', 'localhost', 'DNS:localhost,IP:127.0.0.1');
  leaf('server-2', 'ca', 'localhost', 'DNS:localhost,IP:127.0.0.1');
  leaf('device-7', 'ca', 'device-7', 'DNS:device-7.devices.example,URI:spiffe://shoal.test/device-7');
  leaf('intruder', 'rogue-ca', 'device-7', 'DNS:device-7.devices.example');
}

/** The SHA-256 fingerprint of the certificate a TLS listener serves now (a fresh handshake). */
function servedFingerprint(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: HOST, port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('TLS listeners', () => {
  let dir: string;
  let nats: RunningNatsServer;
  /** TLS (client certificate optional) and wss. */
  let open: ShoalProxy;
  /** TLS with a client certificate required. */
  let strict: ShoalProxy;
  const logLines: string[] = [];
  const clients: MqttClient[] = [];
  const file = (name: string): string => join(dir, name);
  const ca = (): Buffer => readFileSync(file('ca.crt'));
  const fingerprintOf = (name: string): string => new X509Certificate(readFileSync(file(name))).fingerprint256;
  /** Replaces tls.crt / tls.key atomically, one file after the other, as a Secret update or cert-manager does. */
  const installServerCert = (name: string): void => {
    for (const [from, to] of [[`${name}.crt`, 'tls.crt'], [`${name}.key`, 'tls.key']] as const) {
      copyFileSync(file(from), file(`.${to}.tmp`));
      renameSync(file(`.${to}.tmp`), file(to));
    }
  };
  const connect = async (url: string, options: IClientOptions = {}): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ca: ca(), ...options });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-tls-int-'));
    generateCertificates(dir);
    installServerCert('server-1');
    nats = await startNatsServer({ storeDir: join(dir, 'shard-0'), serverName: 'tls-shard-0' });
    writeFileSync(file('ring.json'), JSON.stringify({ version: 1, shards: [{ id: 'shard-0', urls: [nats.url] }] }));
    const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
    const tls = { certFile: file('tls.crt'), keyFile: file('tls.key') };
    const start = (proxyId: string, listeners: ProxyConfigInput['listeners']): Promise<ShoalProxy> =>
      ShoalProxy.start({
        config: ProxyConfig.parse({ proxyId, listeners, http: { host: HOST, port: 0 }, ring: { file: file('ring.json') }, logLevel: 'debug' }),
        log: log.child({ proxy: proxyId }),
      });
    open = await start('tls-open', {
      tls: { host: HOST, port: 0, ...tls, caFile: file('ca.crt') },
      websocket: { host: HOST, port: 0, tls },
    });
    strict = await start('tls-strict', {
      tls: { host: HOST, port: 0, ...tls, caFile: file('ca.crt'), requireClientCert: true, handshakeTimeoutMs: 500 },
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await Promise.all([open.close(), strict.close()]);
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  /** Whether MQTT.js gets a CONNACK, or the connection fails (TLS 1.3 refuses a client certificate after the client's handshake). */
  const outcome = (url: string, options: IClientOptions): Promise<'connected' | 'refused'> =>
    new Promise((resolve) => {
      const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ca: ca(), ...options });
      const settle = (result: 'connected' | 'refused'): void => {
        client.end(true);
        resolve(result);
      };
      client.once('connect', () => settle('connected'));
      client.once('error', () => settle('refused'));
      client.once('close', () => settle('refused'));
    });
  const tlsUrl = (proxy: ShoalProxy): string => `mqtts://${HOST}:${proxy.boundPorts.tls ?? 0}`;

  it('carries a publish/subscribe round trip over MQTT on TLS (MQTT.js, then mosquitto_pub --cafile)', async () => {
    const subscriber = await connect(tlsUrl(open), { clientId: 'tls-sub', protocolVersion: 5 });
    const publisher = await connect(tlsUrl(open), { clientId: 'tls-pub', protocolVersion: 4 });
    await subscriber.subscribeAsync('tls/#', { qos: 1 });
    const received = collectMessages(subscriber, 2);
    await publisher.publishAsync('tls/mqttjs', 'over tls', { qos: 1 });
    await run('mosquitto_pub', ['-h', 'localhost', '-p', String(open.boundPorts.tls), '--cafile', file('ca.crt'), '-V', 'mqttv311',
      '-i', 'tls-mosq', '-t', 'tls/mosquitto', '-m', 'over tls too', '-q', '1']);
    const messages = await received;
    expect(messages.map((m) => [m.topic, m.payload.toString()])).toEqual([['tls/mqttjs', 'over tls'], ['tls/mosquitto', 'over tls too']]);
  }, 30_000);

  it('refuses the handshake without a client certificate, or with one from another CA, when one is required', async () => {
    expect(await outcome(tlsUrl(strict), { clientId: 'no-cert' })).toBe('refused');
    const intruder = { cert: readFileSync(file('intruder.crt')), key: readFileSync(file('intruder.key')) };
    expect(await outcome(tlsUrl(strict), { clientId: 'intruder', ...intruder })).toBe('refused');
    await expect(run('mosquitto_pub', ['-h', 'localhost', '-p', String(strict.boundPorts.tls), '--cafile', file('ca.crt'),
      '-t', 'strict/x', '-m', 'no cert', '-q', '1'], { timeout: 10_000 })).rejects.toThrow();
    expect(logLines.filter((l) => l.includes('TLS handshake failed') && l.includes('tls-strict')).length).toBeGreaterThanOrEqual(3);
    const failures = (await strict.metrics.registry.metrics())
      .split('\n')
      .filter((line) => line.startsWith('shoal_proxy_tls_handshake_failures_total{listener="tls"'))
      .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
    expect(failures).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('accepts a client certificate signed by the CA and gives the connection its CN and SANs', async () => {
    const device = await connect(tlsUrl(strict), { clientId: 'device-7', cert: readFileSync(file('device-7.crt')), key: readFileSync(file('device-7.key')) });
    const subscriber = await connect(tlsUrl(open), { clientId: 'strict-watcher' });
    await subscriber.subscribeAsync('devices/device-7/#', { qos: 1 });
    const received = collectMessages(subscriber, 2);
    await device.publishAsync('devices/device-7/temp', '21.5', { qos: 1 });
    await run('mosquitto_pub', ['-h', 'localhost', '-p', String(strict.boundPorts.tls), '--cafile', file('ca.crt'),
      '--cert', file('device-7.crt'), '--key', file('device-7.key'), '-t', 'devices/device-7/hum', '-m', '40', '-q', '1']);
    expect((await received).map((m) => m.payload.toString())).toEqual(['21.5', '40']);
    const verified = logLines.filter((l) => l.includes('client certificate verified')).map((l) => JSON.parse(l) as { peer: unknown });
    expect(verified.length).toBeGreaterThanOrEqual(2);
    expect(verified[0]?.peer).toEqual({
      commonName: 'device-7',
      subjectAltNames: ['DNS:device-7.devices.example', 'URI:spiffe://shoal.test/device-7'],
    });
  }, 30_000);

  it('bounds a client that never completes its handshake', async () => {
    const closedAfterMs = await new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const socket = netConnect({ host: HOST, port: strict.boundPorts.tls ?? 0 });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(Date.now() - started));
      setTimeout(() => reject(new Error('not closed')), 5_000).unref();
    });
    expect(closedAfterMs).toBeGreaterThanOrEqual(400);
    expect(closedAfterMs).toBeLessThan(3_000);
  }, 10_000);

  it('serves a certificate replaced on disk to new connections, without a restart, and keeps the old ones', async () => {
    const port = open.boundPorts.tls ?? 0;
    const wssPort = open.boundPorts.websocket ?? 0;
    expect(await servedFingerprint(port, ca())).toBe(fingerprintOf('server-1.crt'));
    const before = await connect(tlsUrl(open), { clientId: 'before-rotation' });
    let closes = 0;
    before.on('close', () => (closes += 1));
    installServerCert('server-2');
    await eventually(async () => (await servedFingerprint(port, ca())) === fingerprintOf('server-2.crt'), 'the new certificate on 8883');
    await eventually(async () => (await servedFingerprint(wssPort, ca())) === fingerprintOf('server-2.crt'), 'the new certificate on wss');
    const after = await connect(tlsUrl(open), { clientId: 'after-rotation' });
    await after.subscribeAsync('rotation/x', { qos: 1 });
    const received = collectMessages(after, 1);
    await before.publishAsync('rotation/x', 'from the old connection', { qos: 1 });
    expect((await received)[0]?.payload.toString()).toBe('from the old connection');
    expect(before.connected).toBe(true);
    expect(closes).toBe(0);
  }, 40_000);

  it('carries a round trip over wss', async () => {
    const url = `wss://${HOST}:${open.boundPorts.websocket ?? 0}/mqtt`;
    const subscriber = await connect(url, { clientId: 'wss-sub', protocolVersion: 5 });
    const publisher = await connect(url, { clientId: 'wss-pub' });
    await subscriber.subscribeAsync('wss/+', { qos: 1 });
    const received = collectMessages(subscriber, 1);
    await publisher.publishAsync('wss/a', 'over wss', { qos: 1 });
    expect((await received)[0]?.payload.toString()).toBe('over wss');
  }, 30_000);
});

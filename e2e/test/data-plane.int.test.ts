// The data plane through a local fleet of 2 proxies and 3 shards, with real MQTT clients (MQTT.js at 3.1.1
// and 5.0, mosquitto_pub / mosquitto_sub): publisher and subscriber always on different proxies.
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as natsConnect } from '@nats-io/transport-node';
import type { Fleet } from '../src/fleet/fleet.js';
import { httpGet } from '../src/processes/child-process.js';
import { collectMessages, connectClient, startTestFleet } from './support/test-fleet.js';

const run = promisify(execFile);

describe('data plane through a local fleet', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startTestFleet(2, 3);
  }, 120_000);
  afterAll(async () => fleet.stop(), 60_000);

  it('answers /readyz 200 and exports shoal_proxy_* metrics on every proxy', async () => {
    for (const endpoint of fleet.proxyEndpoints) {
      expect((await httpGet(`${endpoint.httpUrl}/readyz`)).status).toBe(200);
      const metrics = (await httpGet(`${endpoint.httpUrl}/metrics`)).body;
      expect(metrics).toMatch(/^shoal_proxy_connections \d+/m);
      expect(metrics).toMatch(/^shoal_proxy_shard_connected\{shard="shard-2"\} 1/m);
      expect(metrics).toMatch(/^shoal_proxy_ring_version 1/m);
    }
  });

  it('runs each shard on one core (GOMAXPROCS 1), as a pod with a CPU limit of 1 would', async () => {
    for (let i = 0; i < 3; i++) {
      const varz = JSON.parse((await httpGet(`${fleet.shard(i)?.monitorUrl ?? ''}/varz`)).body) as { gomaxprocs?: number };
      expect(varz.gomaxprocs).toBe(1);
    }
  });

  it.each([
    [4, 0],
    [4, 1],
    [4, 2],
    [5, 0],
    [5, 1],
    [5, 2],
  ] as const)('delivers across proxies with MQTT.js at protocol %i, QoS %i', async (protocolVersion, qos) => {
    const topic = `e2e/v${protocolVersion}/q${qos}`;
    const subscriber = await connectClient(fleet, 0, { protocolVersion, clientId: `sub-${topic}` });
    const publisher = await connectClient(fleet, 1, { protocolVersion, clientId: `pub-${topic}` });
    await subscriber.subscribeAsync(topic, { qos });
    const received = collectMessages(subscriber, 10);
    for (let i = 0; i < 10; i++) await publisher.publishAsync(topic, `m${i}`, { qos });
    const messages = await received;
    expect(messages.map((m) => m.payload.toString())).toEqual([...Array(10).keys()].map((i) => `m${i}`));
    await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  });

  it('stores QoS 2 messages under a Nats-Msg-Id (JetStream de-duplication) and QoS 1 messages without one', async () => {
    // Read on every shard as a plain NATS subscriber of the re-published live subjects, which carry the stored headers.
    const shards = await Promise.all([0, 1, 2].map((i) => natsConnect({ servers: fleet.shard(i)?.url ?? '' })));
    const ids = new Map<string, string>();
    const seen = new Promise<void>((resolve) => {
      for (const nc of shards) {
        nc.subscribe('mqtt.>', {
          callback: (_err, msg) => {
            const payload = msg.string();
            if (payload !== 'q1' && payload !== 'q2') return;
            ids.set(payload, msg.headers?.get('Nats-Msg-Id') ?? '');
            if (ids.size === 2) resolve();
          },
        });
      }
    });
    await Promise.all(shards.map((nc) => nc.flush()));
    const publisher = await connectClient(fleet, 1, { protocolVersion: 5, clientId: 'pub-msg-ids' });
    await publisher.publishAsync('msg-ids/t', 'q1', { qos: 1 });
    await publisher.publishAsync('msg-ids/t', 'q2', { qos: 2 });
    await seen;
    expect(ids.get('q1')).toBe('');
    expect(ids.get('q2')).toMatch(/^[\w-]+\.[0-9a-z]+$/);
    await publisher.endAsync();
    await Promise.all(shards.map((nc) => nc.close()));
  });

  it('passes MQTT 5 properties through unchanged (user properties, correlation data, response topic, content type)', async () => {
    const subscriber = await connectClient(fleet, 0, { protocolVersion: 5 });
    const publisher = await connectClient(fleet, 1, { protocolVersion: 5 });
    await subscriber.subscribeAsync('props/t', { qos: 1 });
    const received = new Promise<Record<string, unknown>>((resolve) =>
      subscriber.once('message', (_topic, _payload, packet) => resolve(packet.properties ?? {})),
    );
    await publisher.publishAsync('props/t', 'x', {
      qos: 1,
      properties: {
        userProperties: { a: '1', b: ['2', '3'] },
        correlationData: Buffer.from([0, 1, 2]),
        responseTopic: 'reply/here',
        contentType: 'text/plain',
        payloadFormatIndicator: true,
      },
    });
    expect(await received).toMatchObject({
      userProperties: { a: '1', b: ['2', '3'] },
      correlationData: Buffer.from([0, 1, 2]),
      responseTopic: 'reply/here',
      contentType: 'text/plain',
      payloadFormatIndicator: true,
    });
    await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  });

  it('serves MQTT over WebSocket on /mqtt', async () => {
    const subscriber = await connectClient(fleet, 1, { ws: true, protocolVersion: 5 });
    const publisher = await connectClient(fleet, 0, { ws: true, protocolVersion: 4 });
    await subscriber.subscribeAsync('ws/+', { qos: 1 });
    const received = collectMessages(subscriber, 1);
    await publisher.publishAsync('ws/a', 'over websocket', { qos: 1 });
    expect((await received)[0]?.payload.toString()).toBe('over websocket');
    await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  });

  it('delivers retained messages from every shard to a wildcard subscriber, and deletes them with an empty payload', async () => {
    const publisher = await connectClient(fleet, 0, { protocolVersion: 5 });
    const topics = [...Array(12).keys()].map((i) => `retained/${i}`);
    for (const topic of topics) await publisher.publishAsync(topic, `r-${topic}`, { qos: 1, retain: true });
    const subscriber = await connectClient(fleet, 1, { protocolVersion: 5 });
    const received = collectMessages(subscriber, topics.length);
    await subscriber.subscribeAsync('retained/#', { qos: 1 });
    expect((await received).map((m) => m.topic).sort()).toEqual([...topics].sort());
    await publisher.publishAsync('retained/0', '', { qos: 1, retain: true });
    const literal = await connectClient(fleet, 1, { protocolVersion: 4 });
    const one = collectMessages(literal, 1, 3_000);
    await literal.subscribeAsync('retained/1', { qos: 1 });
    expect((await one)[0]?.payload.toString()).toBe('r-retained/1');
    const gone = await connectClient(fleet, 0, { protocolVersion: 5 });
    const granted = await gone.subscribeAsync('retained/0', { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    await expect(collectMessages(gone, 1, 1_000)).rejects.toThrow(/0\/1/);
    await Promise.all([publisher.endAsync(), subscriber.endAsync(), literal.endAsync(), gone.endAsync()]);
  });

  it.each(['mqttv311', 'mqttv5'])('carries messages between mosquitto_pub and mosquitto_sub (%s)', async (version) => {
    const [p0, p1] = fleet.proxyEndpoints;
    const port0 = new URL(p0?.mqttUrl ?? '').port;
    const port1 = new URL(p1?.mqttUrl ?? '').port;
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', port0, '-V', version, '-t', `mosq/${version}/#`, '-q', '1', '-W', '20', '-v']);
    const lines: string[] = [];
    let sawFirst: () => void = () => undefined;
    let sawLast: () => void = () => undefined;
    const firstLine = new Promise<void>((resolve) => (sawFirst = resolve));
    const lastLine = new Promise<void>((resolve) => (sawLast = resolve));
    createInterface({ input: sub.stdout }).on('line', (line) => {
      lines.push(line);
      sawFirst();
      if (line.endsWith('hello 2')) sawLast();
    });
    const exited = new Promise<void>((resolve) => sub.on('exit', () => resolve()));
    // mosquitto_sub has no "subscribed" signal: a retained marker reaches it once the subscription is live. It
    // may arrive twice (from the retained store and live, when it is published while the subscription starts).
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port1, '-V', version, '-t', `mosq/${version}/ready`, '-m', 'r', '-r', '-q', '1']);
    await firstLine;
    for (const n of [1, 2]) {
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port1, '-V', version, '-t', `mosq/${version}/m${n}`, '-m', `hello ${n}`, '-q', '1']);
    }
    await lastLine;
    sub.kill();
    await exited;
    expect(lines.filter((line) => !line.endsWith('ready r'))).toEqual([`mosq/${version}/m1 hello 1`, `mosq/${version}/m2 hello 2`]);
    expect(lines[0]).toBe(`mosq/${version}/ready r`);
  });
});

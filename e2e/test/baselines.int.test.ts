// The baseline brokers of `make bench` (bench/side-by-side.ts), started by the project's process helpers:
// Mosquitto from a generated config and nats-server with an `mqtt` block. Each must carry a QoS 1 message
// between two MQTT.js clients on 127.0.0.1 and keep a persistent session's QoS 1 message while it is offline.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { freePort } from '../src/processes/child-process.js';
import { startMosquitto, type RunningMosquitto } from '../src/processes/mosquitto.js';
import { startNatsServer, type RunningNatsServer } from '../src/processes/nats-server.js';

const WAIT_MS = 10_000;

function connect(port: number, clientId: string, clean = true): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, clean, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: WAIT_MS });
}

/** The first message on `topic` (subscribed at QoS 1 unless the session already holds the subscription). */
function nextMessage(client: MqttClient): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message')), WAIT_MS);
    client.once('message', (topic, payload) => {
      clearTimeout(timer);
      resolve({ topic, payload: payload.toString() });
    });
  });
}

describe.each([
  ['mosquitto', async (dir: string): Promise<{ port: number; stop(): Promise<void> }> => {
    const broker: RunningMosquitto = await startMosquitto({ dir: join(dir, 'mosquitto') });
    return { port: broker.port, stop: () => broker.stop() };
  }],
  ['nats-server MQTT', async (dir: string): Promise<{ port: number; stop(): Promise<void> }> => {
    const mqttPort = await freePort();
    const server: RunningNatsServer = await startNatsServer({ storeDir: join(dir, 'nats', 'store'), serverName: 'nats-mqtt-test', mqttPort });
    return { port: mqttPort, stop: () => server.stop() };
  }],
])('%s as a benchmark baseline', (_name, start) => {
  let dir: string;
  let broker: { port: number; stop(): Promise<void> };
  const clients: MqttClient[] = [];
  const open = async (clientId: string, clean = true): Promise<MqttClient> => {
    const client = await connect(broker.port, clientId, clean);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-baseline-'));
    broker = await start(dir);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries a QoS 1 message from a publisher to a subscriber', async () => {
    const sub = await open('sub-live');
    await sub.subscribeAsync('baseline/live', { qos: 1 });
    const pub = await open('pub-live');
    const arriving = nextMessage(sub);
    await pub.publishAsync('baseline/live', 'hello', { qos: 1 });
    await expect(arriving).resolves.toEqual({ topic: 'baseline/live', payload: 'hello' });
  });

  it('keeps a QoS 1 message for an offline persistent session and delivers it on reconnect', async () => {
    const first = await connect(broker.port, 'sub-offline', false);
    await first.subscribeAsync('baseline/offline', { qos: 1 });
    await first.endAsync();
    const pub = await open('pub-offline');
    await pub.publishAsync('baseline/offline', 'queued', { qos: 1 });
    const again = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'sub-offline', clean: false, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(again);
    // the handler is in place before the CONNACK: the queued message may arrive right behind it
    await expect(nextMessage(again)).resolves.toEqual({ topic: 'baseline/offline', payload: 'queued' });
  });
});

// Routing through the fleet as issue 2's "Must show" states it: topics spread over the shards by the ring, a
// wildcard subscriber on one proxy receiving everything published on another, and exactly one NATS
// connection per proxy per shard however many devices are connected.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mqttPacket from 'mqtt-packet';
import type { Fleet } from '../src/fleet/fleet.js';
import { collectMessages, connectClient, shardMonitor, startTestFleet } from './support/test-fleet.js';

interface Jsz {
  account_details?: { stream_detail?: { name: string; state: { messages: number } }[] }[];
}
interface Connz {
  connections: { name?: string }[];
}

async function storedMessages(fleet: Fleet, shard: number): Promise<number> {
  const jsz = await shardMonitor<Jsz>(fleet, shard, '/jsz?accounts=true&streams=true');
  const streams = (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
  return streams.find((s) => s.name === 'SHOAL_MSGS')?.state.messages ?? 0;
}

/** Opens a raw MQTT 3.1.1 connection and resolves once CONNACK arrived. */
function rawDevice(port: number, clientId: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: 0 }));
    });
    socket.once('data', (chunk: Buffer) => (chunk[0] === 0x20 && chunk[3] === 0 ? resolve(socket) : reject(new Error('refused'))));
    socket.once('error', reject);
  });
}

describe('routing across 3 shards and 2 proxies', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startTestFleet(2, 3);
  }, 120_000);
  afterAll(async () => fleet.stop(), 60_000);

  it('delivers 1000/1000 QoS 1 messages on 1000 topics to a `t/+/x` subscriber on the other proxy, spread over the shards with max/mean <= 1.2', async () => {
    const before = await Promise.all([0, 1, 2].map((s) => storedMessages(fleet, s)));
    const subscriber = await connectClient(fleet, 0, { protocolVersion: 5, clientId: 'spread-sub' });
    await subscriber.subscribeAsync('t/+/x', { qos: 1 });
    const publisher = await connectClient(fleet, 1, { protocolVersion: 5, clientId: 'spread-pub' });
    const received = collectMessages(subscriber, 1000, 60_000);
    await Promise.all([...Array(1000).keys()].map((i) => publisher.publishAsync(`t/${i}/x`, `m${i}`, { qos: 1 })));
    const messages = await received;
    expect(new Set(messages.map((m) => m.topic)).size).toBe(1000);
    const after = await Promise.all([0, 1, 2].map((s) => storedMessages(fleet, s)));
    const perShard = after.map((n, s) => n - (before[s] ?? 0));
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(1000);
    const maxOverMean = Math.max(...perShard) / (1000 / 3);
    process.stdout.write(`stored per shard ${JSON.stringify(perShard)}, max/mean ${maxOverMean.toFixed(3)}\n`);
    expect(maxOverMean).toBeLessThanOrEqual(1.2);
    await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  }, 90_000);

  it('holds exactly one NATS connection per proxy on each shard with 2,000 devices connected', async () => {
    const ports = fleet.proxyEndpoints.map((e) => Number(new URL(e.mqttUrl).port));
    const devices: Socket[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const opened = await Promise.all(
        [...Array(100).keys()].map((i) => rawDevice(ports[(batch * 100 + i) % 2] ?? 0, `device-${batch}-${i}`)),
      );
      devices.push(...opened);
    }
    expect(devices).toHaveLength(2000);
    for (const shard of [0, 1, 2]) {
      const connz = await shardMonitor<Connz>(fleet, shard, '/connz?limit=1024');
      const names = connz.connections.map((c) => c.name ?? '').filter((n) => n.startsWith('shoal-proxy/')).sort();
      process.stdout.write(`shard-${shard} connections: ${JSON.stringify(names)}\n`);
      expect(names).toEqual(['shoal-proxy/proxy-0', 'shoal-proxy/proxy-1']);
    }
    for (const device of devices) device.destroy();
  }, 120_000);
});

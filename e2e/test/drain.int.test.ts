// A proxy with N clients gets SIGTERM: /readyz turns 503 before the first client goes, clients are disconnected
// at the configured rate (v5: 0x8B), the process exits 0, and every QoS 1 message that was acknowledged —
// including those of publishers on the stopping proxy, which reconnect to the other one — is delivered.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mqtt, { type MqttClient } from 'mqtt';
import { Qos1Load } from '../src/chaos/qos1-load.js';
import type { Fleet } from '../src/fleet/fleet.js';
import { httpGet } from '../src/processes/child-process.js';
import { startTestFleet } from './support/test-fleet.js';

const CLIENTS = 300;
const RATE = 200;

describe('drain on SIGTERM', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startTestFleet(2, 3, {
      proxyConfig: { drain: { notReadyDelayMs: 300, disconnectRatePerSecond: RATE, timeoutMs: 30_000 } },
    });
  }, 120_000);
  afterAll(async () => fleet.stop(), 60_000);

  it(`disconnects ${CLIENTS} clients at ${RATE}/s after turning not ready, exits 0 and loses nothing acknowledged`, async () => {
    const port = (i: number): number => Number(new URL(fleet.proxyEndpoints[i]?.mqttUrl ?? '').port);
    const endpoints = [0, 1].map((i) => ({ host: '127.0.0.1', port: port(i) }));
    const load = await Qos1Load.start({ endpoints, prefix: 'drain', publishers: 4, ratePerSecond: 50, publisherStart: 0, subscriberStart: 1 });
    const disconnectedAt: number[] = [];
    const reasons: number[] = [];
    const clients: MqttClient[] = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        mqtt.connectAsync(fleet.proxyEndpoints[0]?.mqttUrl ?? '', { protocolVersion: i % 3 === 0 ? 4 : 5, reconnectPeriod: 0, clientId: `drain-${i}` }),
      ),
    );
    for (const client of clients) {
      client.once('close', () => disconnectedAt.push(Date.now()));
      client.once('disconnect', (packet) => reasons.push(packet.reasonCode ?? -1));
    }
    const proxy = fleet.proxy(0);
    if (proxy === undefined) throw new Error('proxy 0 is not running');
    let notReadyAt: number | undefined;
    const readiness = (async () => {
      while (notReadyAt === undefined) {
        const status = await httpGet(`${fleet.proxyEndpoints[0]?.httpUrl ?? ''}/readyz`, 500).then((r) => r.status, () => 0);
        if (status === 503) notReadyAt = Date.now();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500)); // some traffic before the stop
    const exited = proxy.exited;
    proxy.kill('SIGTERM');
    const exit = await exited;
    await readiness;
    await fleet.killProxy(0); // forget the exited process in the fleet
    load.pause();
    const counts = await load.settle(15_000);
    await load.close();

    expect(exit).toEqual({ code: 0, signal: null });
    expect(disconnectedAt).toHaveLength(CLIENTS);
    const first = Math.min(...disconnectedAt);
    const last = Math.max(...disconnectedAt);
    const measuredRate = ((CLIENTS - 1) * 1000) / (last - first);
    process.stdout.write(
      `drain: ${CLIENTS} clients in ${last - first} ms = ${measuredRate.toFixed(0)}/s (configured ${RATE}/s); ` +
        `not ready ${first - (notReadyAt ?? Number.NaN)} ms before the first disconnect; ` +
        `acknowledged ${counts.acknowledged}, lost ${counts.lost}, duplicated ${counts.duplicated}\n`,
    );
    expect(notReadyAt).toBeDefined();
    expect(notReadyAt ?? Infinity).toBeLessThan(first);
    expect(measuredRate).toBeGreaterThan(RATE * 0.7);
    expect(measuredRate).toBeLessThan(RATE * 1.3);
    expect(reasons.filter((r) => r === 0x8b)).toHaveLength(reasons.length);
    expect(reasons.length).toBeGreaterThanOrEqual(Math.floor((CLIENTS * 2) / 3));
    expect(counts.acknowledged).toBeGreaterThan(100);
    expect(counts.lost).toBe(0);
    await Promise.all(clients.map((c) => c.endAsync(true)));
  }, 90_000);
});

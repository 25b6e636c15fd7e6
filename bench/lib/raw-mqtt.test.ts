// RawMqttClient reading from a scripted MQTT peer on 127.0.0.1: deliveries and PUBACKs through the FrameReader,
// CONNACK through mqtt-packet, and a malformed packet failing the client with a clear error.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt-packet';
import { RawMqttClient } from './raw-mqtt.js';

const CONNACK = mqtt.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false });

interface Peer {
  readonly server: Server;
  readonly port: number;
  /** Resolves once the bytes received after the CONNECT contain `bytes`. */
  receives(bytes: Buffer): Promise<void>;
}

/** A peer that answers the CONNECT with a CONNACK, then runs `script` on the socket. */
async function peer(script: (socket: Socket) => void): Promise<Peer> {
  let received = Buffer.alloc(0);
  const waiters: { bytes: Buffer; resolve: () => void }[] = [];
  const check = (): void => {
    for (const w of waiters.filter((x) => received.includes(x.bytes))) w.resolve();
  };
  const server = createServer((socket) => {
    socket.once('data', () => {
      socket.write(CONNACK);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        check();
      });
      script(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receives = (bytes: Buffer): Promise<void> => new Promise((resolve) => {
    waiters.push({ bytes, resolve });
    check();
  });
  return { server, port: (server.address() as AddressInfo).port, receives };
}

function stamped(seq: number, sentAtMs: number): Buffer {
  const payload = Buffer.alloc(20);
  payload.writeDoubleLE(sentAtMs, 0);
  payload.writeUInt32LE(seq, 8);
  return payload;
}

describe('RawMqttClient', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  });

  it('delivers PUBLISHes split over writes and acknowledges the QoS 1 one', async () => {
    const q1 = mqtt.generate({ cmd: 'publish', topic: 't/1', payload: stamped(41, 1234.5), qos: 1, messageId: 300, dup: false, retain: false });
    const q0 = mqtt.generate({ cmd: 'publish', topic: 't/0', payload: stamped(42, 99), qos: 0, dup: false, retain: false });
    const p = await peer((socket) => {
      socket.write(q1.subarray(0, 3));
      setImmediate(() => socket.write(Buffer.concat([q1.subarray(3), q0])));
    });
    server = p.server;
    const deliveries: string[] = [];
    let resolveTwo: () => void = () => undefined;
    const two = new Promise<void>((resolve) => (resolveTwo = resolve));
    const client = await RawMqttClient.connect({ host: '127.0.0.1', port: p.port, clientId: 'reader-test', protocolVersion: 4, keepaliveSeconds: 0, onDelivery: (d) => {
      deliveries.push(`${d.topic} q${d.qos} seq ${d.seq} at ${d.sentAtMs} (${d.payloadBytes} B)`);
      if (deliveries.length === 2) resolveTwo();
    } });
    await two;
    await p.receives(Buffer.from([0x40, 0x02, 0x01, 0x2c])); // PUBACK for packet id 300
    expect(deliveries).toEqual(['t/1 q1 seq 41 at 1234.5 (20 B)', 't/0 q0 seq 42 at 99 (20 B)']);
    expect(client.error).toBeUndefined();
    await client.close();
  });

  it('fails with a clear error on a malformed packet', async () => {
    const p = await peer((socket) => socket.write(Buffer.from([0x36, 0x04, 0x00, 0x01, 0x61, 0x00])));
    server = p.server;
    const client = await RawMqttClient.connect({ host: '127.0.0.1', port: p.port, clientId: 'reader-test', protocolVersion: 4, keepaliveSeconds: 0 });
    await client.closed;
    expect(client.error?.message).toBe('reader-test: bad packet: PUBLISH with both QoS bits set');
  });
});

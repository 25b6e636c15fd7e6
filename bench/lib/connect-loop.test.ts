// The connect loops' hand-built CONNECT against mqtt-packet's.
import { describe, expect, it } from '@jest/globals';
import mqtt from 'mqtt-packet';
import { connectPacket } from './connect-loop.js';

describe('connectPacket', () => {
  it.each(['a', 'r1-shoal-connect-rate-conn-12345', 'grüße-✓', 'x'.repeat(200), 'y'.repeat(20_000)])('is what mqtt-packet generates for client id %#', (clientId) => {
    const expected = mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: false, keepalive: 60 });
    expect(connectPacket(clientId).toString('hex')).toBe(expected.toString('hex'));
  });
});

// The will in the session store while its connection is up: armed at CONNECT (so that another proxy publishes it
// if this one dies), dropped at a normal DISCONNECT, replaced at an abnormal close.
import { afterEach, describe, expect, it } from '@jest/globals';
import type mqtt from 'mqtt-packet';
import { ProtocolHarness } from '../../test-support/protocol-harness.js';
import { ReasonCode } from '../reason-codes.js';

let harness: ProtocolHarness;
afterEach(async () => harness.close());

const withWill = (delaySeconds: number): Partial<mqtt.IConnectPacket> => ({
  clean: false,
  properties: { sessionExpiryInterval: 60 },
  will: { topic: 'will/dev', payload: Buffer.from('gone'), qos: 1, retain: false, properties: { willDelayInterval: delaySeconds } },
});

describe('the will in the session store', () => {
  it('v5: is armed at CONNECT with its delay (bounded by the Session Expiry Interval), and dropped by a normal DISCONNECT', async () => {
    harness = new ProtocolHarness();
    const dev = await harness.connected(5, 'dev', withWill(600));
    expect(harness.sessions.data.wills.get('dev')).toMatchObject({ armedDelayMs: 60_000 });
    dev.send({ cmd: 'disconnect', reasonCode: ReasonCode.Success });
    await dev.closed;
    await harness.connected(5, 'flush'); // the close was handled before this CONNECT (one store, in order)
    expect(harness.sessions.data.wills.has('dev')).toBe(false);
  });

  it('v5: an abnormal close turns the armed will into a pending one, due after its delay', async () => {
    harness = new ProtocolHarness();
    const dev = await harness.connected(5, 'dev', withWill(30));
    const closedAt = harness.clock.now();
    dev.destroy();
    await dev.closed;
    await harness.connected(5, 'flush');
    const pending = harness.sessions.data.wills.get('dev');
    expect(pending?.armedDelayMs).toBeUndefined();
    expect(pending?.dueMs).toBe(closedAt + 30_000);
  });

  it('v5: the armed will of a proxy that died is published once another proxy orphans its sessions', async () => {
    harness = new ProtocolHarness();
    const watcher = await harness.connected(5, 'watcher');
    await watcher.subscribe([{ topic: 'will/#', qos: 1 }]);
    await harness.connected(5, 'dev', withWill(0));
    expect(await harness.sessions.orphanSessions('test', harness.clock.now(), 10)).toBeGreaterThan(0);
    harness.clock.advance(1); // the harness polls the expiry index when its clock moves
    expect((await watcher.expect('publish')).topic).toBe('will/dev');
  });
});

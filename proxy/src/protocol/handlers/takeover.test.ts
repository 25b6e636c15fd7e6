import { afterEach, describe, expect, it } from '@jest/globals';
import { BackendUnavailableError } from '../../errors.js';
import type { MemorySessionStore } from '../../sessions/memory-session-store.js';
import type { SessionStore } from '../../sessions/session-store.js';
import { MemoryTakeoverBus, decodeTakeover, encodeTakeover } from '../../sessions/takeover-bus.js';
import { ProtocolHarness } from '../../test-support/protocol-harness.js';
import { ReasonCode } from '../reason-codes.js';

/** The memory store, except that `open` fails as an unreachable Redis does. */
function unreachableOpen(memory: MemorySessionStore): SessionStore {
  return Object.assign(Object.create(memory) as SessionStore, {
    open: () => Promise.reject(new BackendUnavailableError('redis', 'connect ECONNREFUSED')),
  });
}

describe('session store unavailable at CONNECT', () => {
  let harness: ProtocolHarness;
  afterEach(async () => harness.close());

  it('answers CONNACK Server Unavailable (v5 0x88, v3 return code 3) and closes', async () => {
    harness = new ProtocolHarness({ sessions: unreachableOpen });
    const v5 = harness.client(5);
    expect((await v5.connect({ clientId: 'a' })).reasonCode).toBe(ReasonCode.ServerUnavailable);
    await v5.closed;
    const v3 = harness.client(4);
    expect((await v3.connect({ clientId: 'b' })).returnCode).toBe(3);
    await v3.closed;
  });
});

describe('takeover across proxies', () => {
  const harnesses: ProtocolHarness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.close();
  });

  /** Two proxies sharing one store and one bus. */
  function twoProxies(): [ProtocolHarness, ProtocolHarness] {
    const takeover = new MemoryTakeoverBus();
    const p0 = new ProtocolHarness({ proxyId: 'p0', takeover });
    const p1 = new ProtocolHarness({ proxyId: 'p1', takeover, sessions: () => p0.sessions });
    harnesses.push(p1, p0);
    return [p0, p1];
  }

  it('disconnects the client on the other proxy with 0x8E [MQTT-3.1.4-2]', async () => {
    const [p0, p1] = twoProxies();
    const first = await p0.connected(5, 'dev');
    const second = await p1.connected(5, 'dev');
    expect((await first.expect('disconnect')).reasonCode).toBe(ReasonCode.SessionTakenOver);
    await first.closed;
    await second.ping(); // the new connection stays
    expect(p0.registry.size).toBe(0);
    expect(p1.registry.size).toBe(1);
  });

  it('leaves alone a client whose epoch is newer than the notice', async () => {
    const [p0] = twoProxies();
    const client = await p0.connected(5, 'dev');
    p0.registry.takenElsewhere('dev', 1); // a late notice about an older takeover
    await client.ping();
    expect(p0.registry.size).toBe(1);
  });

  it('encodes a notice so that any client id reads back', () => {
    expect(decodeTakeover(encodeTakeover('a b {c}', 42))).toEqual({ clientId: 'a b {c}', epoch: 42 });
    expect(decodeTakeover('nope')).toBeUndefined();
  });
});

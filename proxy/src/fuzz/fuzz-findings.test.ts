// Bugs the fuzz run found, each pinned by the behaviour the spec asks for: a packet too short for its packet
// identifier (mqtt-packet read it from the next packet), a will delay beyond setTimeout's range, and a property
// given twice. Fixed in protocol/connection.ts (one packet per parse), protocol/packet-checks.ts and
// protocol/client-registry.ts.
import { afterEach, describe, expect, it } from '@jest/globals';
import { ReasonCode } from '../protocol/reason-codes.js';
import { ProtocolHarness } from '../test-support/protocol-harness.js';
import { First, frame, props, str } from '../test-support/raw-packets.js';

let harness: ProtocolHarness;
afterEach(async () => harness.close());

describe('bugs found by fuzzing', () => {
  // mqtt-packet parses a PUBREL of Remaining Length 0 with messageId -1; handlePubrel answers PUBCOMP -1, and
  // mqtt.generate encodes it as a bare fixed header (0x70 0x02) with no packet id: in v3.1.1 the client then reads
  // the next packet's first bytes (here the PINGRESP) as that id; in v5 the stream stalls. [MQTT-3.6.2] (packet id)
  for (const version of [4, 5] as const) {
    it(`v${version}: a PUBREL without packet identifier is refused as malformed (MQTT 5 §3.6.2) [MQTT-2.2.1-3]`, async () => {
      harness = new ProtocolHarness();
      const client = await harness.connected(version, 'c');
      client.sendRaw(Uint8Array.of(0x62, 0x00));
      client.sendRaw(Uint8Array.of(0xc0, 0x00)); // PINGREQ
      // expected: a close (v5: DISCONNECT 0x81 first), never a PUBCOMP
      const first = await client.next(500);
      if (version === 5) expect(first).toMatchObject({ cmd: 'disconnect', reasonCode: 0x81 });
      else expect(first).toBeUndefined();
    });
  }

  // ClientRegistry.scheduleWill passes min(Will Delay, Session Expiry) × 1000 ms to setTimeout, which takes at most
  // 2^31 - 1 ms (24.8 days): anything longer prints TimeoutOverflowWarning and fires after 1 ms, so the will is
  // published at once instead of after its delay [MQTT-3.1.3-9].
  it('v5: a will delayed by 30 days (session expiry 30 days) is not published when the client drops', async () => {
    harness = new ProtocolHarness();
    const watcher = await harness.connected(5, 'watcher');
    await watcher.subscribe([{ topic: 'wills/#', qos: 0 }]);
    const days30 = 30 * 24 * 3600;
    const dropped = await harness.connected(5, 'dropped', {
      properties: { sessionExpiryInterval: days30 },
      will: { topic: 'wills/dropped', payload: Buffer.from('gone'), qos: 0, retain: false, properties: { willDelayInterval: days30 } },
    });
    dropped.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await watcher.drain()).toEqual([]);
  });

  // mqtt-packet decodes a property given twice as an array; handlers expect one value. A PUBLISH with Response
  // Topic twice reaches validateTopicName(['a', 'b']) → TypeError → DISCONNECT 0x80 "internal error" and an error
  // log, where the spec names Protocol Error (MQTT 5 §3.3.2.3.5: "more than once is a Protocol Error").
  it('v5: a PUBLISH with the Response Topic twice gets DISCONNECT 0x82 Protocol Error', async () => {
    harness = new ProtocolHarness();
    const client = await harness.connected(5, 'c');
    client.sendRaw(frame(First.publishQos0, [...str('t'), ...props(0x08, ...str('a'), 0x08, ...str('b')), 0x78]));
    expect((await client.expect('disconnect')).reasonCode).toBe(ReasonCode.ProtocolError);
  });
});

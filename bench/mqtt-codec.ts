// The MQTT fast path in isolation: CPU per packet of decoding and encoding the data plane's packets with
// mqtt-packet (as the proxy did before) and with publish-codec.ts / publish-encoder.ts (as it does now), in one
// process, alternating. Short by design (a few seconds): the figures are per packet, so a busy machine moves them
// less than the fleet's.
//
//   npx tsx bench/mqtt-codec.ts [--packets 300000]
import mqtt from 'mqtt-packet';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { PacketDecoder } from '../proxy/src/protocol/packet-decoder.js';
import { decodeDataPacket } from '../proxy/src/protocol/publish-codec.js';
import { asBuffer } from '../proxy/src/bytes.js';
import { blankOutboundPublish, encodeAck, encodePublish } from '../proxy/src/protocol/publish-encoder.js';
import type { OutboundPublish } from '../proxy/src/protocol/publish-encoder.js';

const at = process.argv.indexOf('--packets');
const PACKETS = at >= 0 ? Number(process.argv[at + 1]) : 300_000;
const payload = Buffer.alloc(128, 7);

/** mqtt-packet's parser as PacketDecoder used it before the fast path: one parser, one packet per call. */
function mqttPacketDecoder(version: number): (bytes: Buffer) => Packet | undefined {
  const parser = mqtt.parser({ protocolVersion: version });
  let last: Packet | undefined;
  parser.on('packet', (packet: Packet) => (last = packet));
  return (bytes) => {
    parser.parse(bytes);
    return last;
  };
}

/** CPU µs per call of `work`, best of three rounds. */
function measure(work: (i: number) => unknown): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < PACKETS; i++) work(i);
    const used = process.cpuUsage(start);
    best = Math.min(best, ((used.user + used.system) * 1000) / PACKETS);
  }
  return best;
}

function row(name: string, before: number, after: number): void {
  console.log(`| ${name} | ${before.toFixed(0)} ns | ${after.toFixed(0)} ns | ${(before / after).toFixed(1)} × |`);
}

function delivery(qos: 0 | 1): OutboundPublish {
  return { ...blankOutboundPublish(), topic: 'bench/pairs/17', payload, qos, packetId: qos > 0 ? 42 : undefined };
}

/** The packet PublishSender built for mqtt-packet before the fast path (properties spread for v5). */
function legacyPacket(publish: OutboundPublish, version: number): IPublishPacket {
  const packet: IPublishPacket = { cmd: 'publish', topic: publish.topic, payload: asBuffer(publish.payload), qos: publish.qos, dup: publish.dup, retain: publish.retain };
  if (publish.packetId !== undefined) packet.messageId = publish.packetId;
  if (version === 5) packet.properties = { ...{}, ...{}, ...{}, ...{} };
  return packet;
}

console.log(`${PACKETS} packets per round, best of 3 rounds, CPU time per packet\n`);
console.log('| packet | mqtt-packet | fast path | ratio |');
console.log('| --- | --- | --- | --- |');
for (const version of [4, 5]) {
  for (const qos of [0, 1] as const) {
    const bytes = encodePublish(delivery(qos), version);
    const before = mqttPacketDecoder(version);
    const shared = new PacketDecoder();
    const settings = { protocolVersion: version };
    if (decodeDataPacket(bytes, version) === undefined) throw new Error('not on the fast path');
    row(`decode PUBLISH v${version} QoS ${qos}, 128 B`, measure(() => before(bytes)), measure(() => shared.decode(bytes, settings)));
  }
  const puback = encodeAck('puback', 42, 0, version);
  const before = mqttPacketDecoder(version);
  const shared = new PacketDecoder();
  row(`decode PUBACK v${version}`, measure(() => before(puback)), measure(() => shared.decode(puback, { protocolVersion: version })));
}
{
  // what real v5 devices send: a topic alias and a user property (decoded by publish-properties.ts)
  const properties = { topicAlias: 3, userProperties: { device: 'd-17' } };
  const bytes = mqtt.generate({ cmd: 'publish', topic: '', payload, qos: 1, messageId: 42, dup: false, retain: false, properties }, { protocolVersion: 5 });
  const before = mqttPacketDecoder(5);
  const shared = new PacketDecoder();
  if (decodeDataPacket(bytes, 5) === undefined) throw new Error('not on the fast path');
  row('decode PUBLISH v5 QoS 1, topic alias + user property', measure(() => before(bytes)), measure(() => shared.decode(bytes, { protocolVersion: 5 })));
}
for (const version of [4, 5]) {
  for (const qos of [0, 1] as const) {
    const publish = delivery(qos);
    row(
      `encode PUBLISH v${version} QoS ${qos}, 128 B`,
      measure(() => mqtt.generate(legacyPacket(publish, version), { protocolVersion: version })),
      measure(() => encodePublish(publish, version)),
    );
  }
  row(`encode PUBACK v${version}`, measure((i) => mqtt.generate({ cmd: 'puback', messageId: (i & 0xfff) + 1 }, { protocolVersion: version })), measure((i) => encodeAck('puback', (i & 0xfff) + 1, undefined, version)));
}

// The load generator's receive path in isolation: CPU per packet of reading PUBLISH and PUBACK frames from socket-
// sized chunks with mqtt-packet's parser (as RawMqttClient did before) and with FrameReader (as it does now), in one
// process. Short by design; the figures are per packet, so a busy machine moves them less than a whole run's.
//
//   npx tsx bench/frame-reader-cost.ts [--packets 200000]
import mqtt from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { FrameReader } from './lib/frame-reader.js';

const at = process.argv.indexOf('--packets');
const PACKETS = at >= 0 ? Number(process.argv[at + 1]) : 200_000;

/** `count` copies of `packet`, cut into chunks of `perChunk` packets (1: one read per packet, as when paced). */
function chunks(packet: Buffer, count: number, perChunk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i += perChunk) out.push(Buffer.concat(Array.from({ length: Math.min(perChunk, count - i) }, () => packet)));
  return out;
}

/** CPU ns per packet of feeding every chunk to `read`, best of three rounds. */
function measure(input: readonly Buffer[], read: (chunk: Buffer) => void): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = process.cpuUsage();
    for (const chunk of input) read(chunk);
    const used = process.cpuUsage(start);
    best = Math.min(best, ((used.user + used.system) * 1000) / PACKETS);
  }
  return best;
}

let checksum = 0;
/** The old client: one mqtt-packet parser, the payload's stamp read from the parsed packet. */
function mqttPacketReader(version: 4 | 5): (chunk: Buffer) => void {
  const parser = mqtt.parser({ protocolVersion: version });
  parser.on('packet', (p: Packet) => {
    if (p.cmd === 'publish') {
      const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
      checksum += payload.readUInt32LE(8) + p.topic.length + (p.messageId ?? 0);
    } else if (p.cmd === 'puback') checksum += p.messageId ?? 0;
  });
  return (chunk) => void parser.parse(chunk);
}

function frameReader(version: 4 | 5): (chunk: Buffer) => void {
  const reader = new FrameReader(version, {
    publish: (v) => void (checksum += v.frame.readUInt32LE(v.payloadStart + 8) + v.topic.length + v.messageId),
    puback: (id) => void (checksum += id),
    pingresp: () => undefined,
    other: () => undefined,
    malformed: (reason) => {
      throw new Error(reason);
    },
  });
  return (chunk) => reader.push(chunk);
}

console.log(`${PACKETS} packets per round, best of 3 rounds, CPU time per packet\n`);
console.log('| packets | per read | mqtt-packet | FrameReader | ratio |');
console.log('| --- | --- | --- | --- | --- |');
for (const version of [4, 5] as const) {
  const publish = mqtt.generate({ cmd: 'publish', topic: 'bench/r1/half1/17', payload: Buffer.alloc(128, 7), qos: 1, messageId: 42, dup: false, retain: false }, { protocolVersion: version });
  const puback = mqtt.generate({ cmd: 'puback', messageId: 42 }, { protocolVersion: version });
  for (const [name, packet] of [[`PUBLISH v${version} QoS 1, 128 B`, publish], [`PUBACK v${version}`, puback]] as const) {
    for (const perChunk of [1, 2, 64]) {
      const input = chunks(packet, PACKETS, perChunk);
      const before = measure(input, mqttPacketReader(version));
      const after = measure(input, frameReader(version));
      console.log(`| ${name} | ${perChunk} | ${before.toFixed(0)} ns | ${after.toFixed(0)} ns | ${(before / after).toFixed(1)} × |`);
    }
  }
}
console.log(`\n(checksum ${checksum})`);

// Memory bound of a hostile first packet (issue 5): each of the 15 MQTT packet types is sent as the first packet
// of a connection, declaring a Remaining Length of 268,435,455 bytes (~256 MB), followed by BODY_MB of body in
// 64 KB chunks while every connection is held open. The heap (V8 heap + Buffer memory) must grow by < 20 MB per
// type. A control run with the packet size limit raised to the maximum shows what the same bytes cost when the
// frame guard lets them through to the parser, which buffers them: the measurement sees buffering when it happens.
//
//   node --expose-gc --import tsx bench/fuzz-oversized.ts [--json]
//
// Run by proxy/src/fuzz/oversized-first-packet.test.ts. Exits non-zero when a type grows by 20 MB or more.
import { duplexPair, type Duplex } from 'node:stream';
import { ClientHandler } from '../proxy/src/protocol/client-handler.js';
import { Connection } from '../proxy/src/protocol/connection.js';
import { noMetrics } from '../proxy/src/protocol/ports.js';
import { ProtocolHarness } from '../proxy/src/test-support/protocol-harness.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const collect = gc;

/** Fixed-header first byte of each packet type, with the flags the spec requires. */
const TYPES: [string, number][] = [
  ['CONNECT', 0x10], ['CONNACK', 0x20], ['PUBLISH', 0x30], ['PUBACK', 0x40], ['PUBREC', 0x50], ['PUBREL', 0x62],
  ['PUBCOMP', 0x70], ['SUBSCRIBE', 0x82], ['SUBACK', 0x90], ['UNSUBSCRIBE', 0xa2], ['UNSUBACK', 0xb0],
  ['PINGREQ', 0xc0], ['PINGRESP', 0xd0], ['DISCONNECT', 0xe0], ['AUTH', 0xf0],
];
const DECLARED = [0xff, 0xff, 0xff, 0x7f]; // 268,435,455
const BODY_MB = 32;
/** Body bytes come in fresh 64 KB buffers, as from a socket (one buffer written again would be retained once). */
const CHUNK_BYTES = 64 * 1024;
const LIMIT_MB = 20;

interface Measure {
  readonly type: string;
  /** Sent as the first packet, or after an accepted CONNECT. */
  readonly when: 'first' | 'after CONNECT';
  /** Growth of heapUsed + arrayBuffers after a full GC, connections still open, in MB. */
  readonly growthMb: number;
  readonly heapMb: number;
  readonly buffersMb: number;
  /** The proxy closed the connection. */
  readonly closed: boolean;
  readonly bodySentMb: number;
}

const memory = (): { heap: number; buffers: number } => {
  collect();
  collect();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, buffers: arrayBuffers };
};
const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A valid v3.1.1 CONNECT (client id `o`), sent before the oversized packet in the `after CONNECT` runs. */
const CONNECT = Uint8Array.of(0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x00, 0x00, 0x01, 0x6f);

async function measure(harness: ProtocolHarness, type: string, first: number, afterConnect: boolean, declared = DECLARED): Promise<Measure> {
  const bodyMb = BODY_MB;
  const before = memory();
  const [serverSide, clientSide] = duplexPair();
  serverSide.on('close', () => clientSide.destroy());
  const conn = new Connection(serverSide, { maxPacketSizeBytes: harness.ctx.limits.maxPacketSizeBytes, hooks: noMetrics, remoteAddress: 'oversized' });
  new ClientHandler(conn, harness.ctx);
  const peer = { closed: false };
  clientSide.on('close', () => (peer.closed = true));
  clientSide.on('error', () => undefined);
  clientSide.resume(); // read and drop what the proxy says
  if (afterConnect) {
    clientSide.write(CONNECT);
    for (let i = 0; i < 10; i++) await tick(); // CONNACK out: the next packet is read in the connected state
  }
  clientSide.write(Uint8Array.from([first, ...declared]));
  let sent = 0;
  for (let i = 0; i < (bodyMb * 1024 * 1024) / CHUNK_BYTES && !peer.closed; i++) {
    if (!clientSide.write(Buffer.alloc(CHUNK_BYTES, 0x61))) await tick();
    sent += CHUNK_BYTES;
    if (i % 16 === 0) await tick();
  }
  await tick();
  const after = memory();
  const result: Measure = {
    type,
    when: afterConnect ? 'after CONNECT' : 'first',
    growthMb: mb(after.heap + after.buffers - before.heap - before.buffers),
    heapMb: mb(after.heap - before.heap),
    buffersMb: mb(after.buffers - before.buffers),
    closed: peer.closed || conn.isClosed,
    bodySentMb: mb(sent),
  };
  release(serverSide, clientSide);
  return result;
}

function release(...streams: Duplex[]): void {
  for (const stream of streams) stream.destroy();
}

const guarded = new ProtocolHarness();
// warm-up, not counted: the first connections compile the code paths they take
for (const afterConnect of [false, true]) await measure(guarded, 'warm-up', 0x10, afterConnect);
const results: Measure[] = [];
for (const afterConnect of [false, true]) {
  for (const [type, first] of TYPES) results.push(await measure(guarded, type, first, afterConnect));
}
await guarded.close();

// control: the limit at the protocol maximum, so the parser gets (and buffers) the body
const open = new ProtocolHarness({ limits: { maxPacketSizeBytes: 268_435_455 } });
// 268,435,450 + 5 header bytes: just within the limit
const control = [await measure(open, 'PUBLISH (control, no size limit)', 0x30, true, [0xfa, 0xff, 0xff, 0x7f])];
await open.close();

const worst = Math.max(...results.map((r) => r.growthMb));
if (process.argv.includes('--json')) console.log(JSON.stringify({ limitMb: LIMIT_MB, results, control }));
else {
  console.log(`first packet declaring 268,435,455 bytes, then ${BODY_MB} MB of body, connection held open; growth of heap + buffers after GC`);
  for (const r of [...results, ...control]) {
    console.log(`  ${r.type.padEnd(34)} ${r.when.padEnd(14)} ${String(r.growthMb).padStart(6)} MB (heap ${r.heapMb}, buffers ${r.buffersMb}), body sent ${r.bodySentMb} MB, ${r.closed ? 'closed' : 'open'}`);
  }
  console.log(`worst ${worst} MB (limit ${LIMIT_MB} MB)`);
}
process.exitCode = worst < LIMIT_MB ? 0 : 1;

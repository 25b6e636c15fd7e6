// CONNECT → CONNACK → DISCONNECT loops over raw sockets, for the connect-rate benchmarks: `concurrency` loops,
// each from its own source address (127.0.0.<first>..+15, so TIME_WAIT does not exhaust the ephemeral ports),
// persistent sessions (clean=false), for a fixed time. The CONNECT is built from a precomputed prefix (what
// mqtt-packet would generate, without running it per CONNECT).
import { connect } from 'node:net';

const DISCONNECT = Buffer.from([0xe0, 0x00]);
/** After the fixed header: protocol name "MQTT", level 4, flags 0 (clean=false), keepalive 60. */
const CONNECT_VARIABLE_HEADER = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 60]);

/** An MQTT 3.1.1 CONNECT with clean=false, keepalive 60, no will, user name or password. */
export function connectPacket(clientId: string): Buffer {
  const idBytes = Buffer.byteLength(clientId);
  let remaining = CONNECT_VARIABLE_HEADER.length + 2 + idBytes;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  const packet = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  packet[0] = 0x10;
  let at = 1;
  do {
    packet[at++] = (remaining & 0x7f) | (remaining > 0x7f ? 0x80 : 0);
    remaining >>>= 7;
  } while (remaining > 0);
  at += CONNECT_VARIABLE_HEADER.copy(packet, at);
  at = packet.writeUInt16BE(idBytes, at);
  packet.write(clientId, at, 'utf8');
  return packet;
}

export interface Outcome {
  readonly accepted: number;
  readonly sessionPresent: number;
  readonly failed: number;
  readonly latenciesMs: number[];
}

/** One CONNECT → CONNACK → DISCONNECT round; resolves with the CONNACK flags, or undefined on failure. */
function connectOnce(port: number, clientId: string, source: string): Promise<{ ok: boolean; present: boolean } | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: source });
    const timer = setTimeout(() => finish(undefined), 5_000);
    const finish = (result: { ok: boolean; present: boolean } | undefined): void => {
      clearTimeout(timer);
      if (result?.ok === true) socket.end(DISCONNECT);
      else socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => {
      socket.write(connectPacket(clientId));
    });
    socket.once('data', (chunk: Buffer) => finish({ ok: chunk[0] === 0x20 && chunk[3] === 0, present: ((chunk[2] ?? 0) & 1) === 1 }));
    socket.once('error', () => finish(undefined));
  });
}

export async function drive(port: number, ids: (n: number) => string, seconds: number, concurrency: number, firstSource = 2): Promise<Outcome> {
  const deadline = performance.now() + seconds * 1000;
  const latenciesMs: number[] = [];
  let accepted = 0;
  let sessionPresent = 0;
  let failed = 0;
  let next = 0;
  const loop = async (worker: number): Promise<void> => {
    const source = `127.0.0.${String(firstSource + (worker % 16))}`;
    while (performance.now() < deadline) {
      const started = performance.now();
      const result = await connectOnce(port, ids(next++), source);
      if (result?.ok !== true) {
        failed++;
        continue;
      }
      accepted++;
      if (result.present) sessionPresent++;
      latenciesMs.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, worker) => loop(worker)));
  return { accepted, sessionPresent, failed, latenciesMs };
}

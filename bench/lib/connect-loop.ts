// CONNECT → CONNACK → DISCONNECT loops over raw sockets, for the connect-rate benchmarks: `concurrency` loops,
// each from its own source address (127.0.0.<first>..+15, so TIME_WAIT does not exhaust the ephemeral ports),
// persistent sessions (clean=false), for a fixed time.
import { connect } from 'node:net';
import mqtt from 'mqtt-packet';

const DISCONNECT = Buffer.from([0xe0, 0x00]);

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
      socket.write(mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: false, keepalive: 60 }));
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

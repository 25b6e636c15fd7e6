// One generator process of the reconnect-storm benchmark (bench/reconnect-storm.ts): holds `--count` raw MQTT
// 3.1.1 persistent clients on the victim proxies; when a client's socket closes (its proxy died) it reconnects at
// once to a survivor and records how long that took. A refused CONNACK (3 Server Unavailable / Busy) or a failed
// socket is retried after 100–300 ms, as a device would. Talks to the parent with JSON lines on stdout:
//   {"ready": n}                          all clients connected to the victims (after the start)
//   {"done": {...}}                        every client reconnected, or the deadline passed
// Options: --count N --first K (client ids storm-<K..K+N-1>) --victims p1,p2 --survivors p3,p4
//          --source 127.0.0.x --deadline-ms 15000
import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt-packet';

interface Args {
  count: number;
  first: number;
  victims: number[];
  survivors: number[];
  source: string;
  deadlineMs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string): string => {
    const at = argv.indexOf(flag);
    const text = at >= 0 ? argv[at + 1] : undefined;
    if (text === undefined) throw new Error(`missing ${flag}`);
    return text;
  };
  const ports = (flag: string): number[] => value(flag).split(',').map(Number);
  return {
    count: Number(value('--count')),
    first: Number(value('--first')),
    victims: ports('--victims'),
    survivors: ports('--survivors'),
    source: value('--source'),
    deadlineMs: Number(value('--deadline-ms')),
  };
}

/** The CONNECT packet of each client id, generated once (the reconnect path does as little as it can). */
const connectPackets = new Map<string, Buffer>();
function connectPacket(clientId: string): Buffer {
  let packet = connectPackets.get(clientId);
  if (packet === undefined) {
    packet = mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: false, keepalive: 600 });
    connectPackets.set(clientId, packet);
  }
  return packet;
}

/** Connects one client; resolves with its socket once CONNACK accepted it, or undefined. */
function connectClient(port: number, clientId: string, source: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: source });
    const timer = setTimeout(() => finish(false), 20_000);
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (!ok) socket.destroy();
      resolve(ok ? socket : undefined);
    };
    socket.once('connect', () => {
      socket.write(connectPacket(clientId));
    });
    socket.once('data', (chunk: Buffer) => finish(chunk[0] === 0x20 && chunk[3] === 0));
    socket.on('error', () => finish(false));
  });
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects `ids` (at most `parallel` at once) to `portOf(i)`, retrying refusals; returns the sockets. */
async function connectAll(ids: readonly string[], portOf: (i: number) => number, source: string, parallel: number): Promise<Socket[]> {
  const sockets: Socket[] = new Array<Socket>(ids.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const i = next++;
      for (;;) {
        const socket = await connectClient(portOf(i), ids[i] ?? '', source);
        if (socket !== undefined) {
          sockets[i] = socket;
          break;
        }
        await pause(100 + Math.random() * 200);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return sockets;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const ids = Array.from({ length: args.count }, (_, i) => `storm-${String(args.first + i)}`);
  const sockets = await connectAll(ids, (i) => args.victims[i % args.victims.length] ?? 0, args.source, 200);
  const reconnectMs: number[] = [];
  let refusals = 0;
  let failures = 0;
  let pending = args.count;
  let lastAt = 0;
  const reconnected: Socket[] = [];
  const finished = new Promise<void>((resolve) => {
    const reconnect = async (i: number): Promise<void> => {
      const closedAt = Date.now();
      const until = closedAt + args.deadlineMs;
      const port = args.survivors[i % args.survivors.length] ?? 0;
      let ok = false;
      while (!ok && Date.now() < until) {
        const socket = await connectClient(port, ids[i] ?? '', args.source);
        if (socket === undefined) {
          refusals += 1;
          await pause(100 + Math.random() * 200);
          continue;
        }
        ok = true;
        reconnectMs.push(Date.now() - closedAt);
        lastAt = Date.now();
        reconnected.push(socket); // stays connected until every client is done, like a device would
      }
      if (!ok) failures += 1;
      pending -= 1;
      if (pending === 0) resolve();
    };
    for (const [i, socket] of sockets.entries()) socket.once('close', () => void reconnect(i));
  });
  process.stdout.write(`${JSON.stringify({ ready: args.count })}\n`);
  await finished;
  for (const socket of reconnected) socket.destroy();
  reconnectMs.sort((a, b) => a - b);
  const at = (q: number): number => reconnectMs[Math.min(reconnectMs.length - 1, Math.floor(q * reconnectMs.length))] ?? Number.NaN;
  process.stdout.write(
    `${JSON.stringify({ done: { reconnected: reconnectMs.length, failures, refusals, lastAt, p50: at(0.5), p99: at(0.99), max: reconnectMs.at(-1) ?? Number.NaN } })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});

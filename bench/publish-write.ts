// Which is cheaper for an outbound PUBLISH on a corked socket: one Buffer with the payload copied in, or the header
// and the payload as two writes (one writev either way)? Encodes and writes deliveries over a real TCP connection on
// 127.0.0.1, corked per tick as Connection does, and prints the CPU per message of the whole process (writer and the
// draining reader alike) for each payload size and way. Stops by itself after its rounds.
//
//   npx tsx bench/publish-write.ts [--messages 200000] [--sizes 128,4096,65536]
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { blankOutboundPublish, encodePublish } from '../proxy/src/protocol/publish-encoder.js';
import type { OutboundPublish } from '../proxy/src/protocol/publish-encoder.js';

const BURST = 64; // deliveries written per tick

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

function delivery(payloadBytes: number): OutboundPublish {
  return { ...blankOutboundPublish(), topic: 'bench/pairs/17', payload: Buffer.alloc(payloadBytes, 7) };
}

/** Writes `messages` deliveries in corked bursts, waiting for 'drain' when the socket says so. */
async function run(socket: Socket, publish: OutboundPublish, messages: number, copy: boolean): Promise<number> {
  const start = process.cpuUsage();
  for (let sent = 0; sent < messages; ) {
    socket.cork();
    let more = true;
    for (let i = 0; i < BURST && sent < messages; i++, sent++) {
      if (copy) more = socket.write(encodePublish(publish, 4));
      else {
        socket.write(encodePublish(publish, 4, false));
        more = socket.write(publish.payload);
      }
    }
    process.nextTick(() => socket.uncork());
    if (!more) await once(socket, 'drain');
    else await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / messages) * 1;
}

async function main(): Promise<void> {
  const messages = Number(option('--messages', '200000'));
  const sizes = option('--sizes', '128,4096,65536').split(',').map(Number);
  const server = createServer((peer) => peer.resume());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const socket = createConnection({ host: '127.0.0.1', port: address.port });
  await once(socket, 'connect');
  const watchdog = setTimeout(() => process.exit(2), 120_000).unref();
  for (const size of sizes) {
    const publish = delivery(size);
    const count = Math.max(2_000, Math.floor(messages / Math.max(1, size / 1024)));
    await run(socket, publish, Math.floor(count / 10), true); // warm-up
    for (const copy of [true, false, true, false]) {
      const micros = await run(socket, publish, count, copy);
      console.log(`payload ${size} B, ${copy ? 'copied into one buffer' : 'two writes (header, payload)'}: ${micros.toFixed(2)} µs CPU per message (${count} messages)`);
    }
  }
  clearTimeout(watchdog);
  socket.destroy();
  server.close();
}

await main();

// The floor under a proxy's cost per paced message on this machine: a bare Node TCP server in a child process
// that answers every 150-byte packet with a 4-byte reply (a PUBLISH in, a PUBACK out, nothing else), driven by
// 20 clients paced every millisecond as bench/lib/publisher.ts paces the half-rate scenario. It prints the
// server's CPU µs per message: what one socket read and one socket write cost when nothing batches them.
//
//   npx tsx bench/io-floor.ts [--rate 12000] [--seconds 5]
import { fork } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};

/** The child: echo a PUBACK-sized reply per read, report its CPU seconds when asked. */
function serve(): void {
  const reply = Buffer.from([0x40, 0x02, 0x00, 0x01]);
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', () => socket.write(reply));
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.(typeof address === 'object' && address !== null ? address.port : 0);
  });
  process.on('message', () => {
    const used = process.cpuUsage();
    process.send?.((used.user + used.system) / 1e6);
  });
  process.on('disconnect', () => process.exit(0));
}

async function drive(rate: number, seconds: number): Promise<void> {
  const clients = 20;
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv });
  const next = (): Promise<number> => new Promise((resolve) => child.once('message', (m) => resolve(Number(m))));
  const port = await next();
  const packet = Buffer.alloc(150, 1);
  const sockets = await Promise.all(
    Array.from({ length: clients }, () => new Promise<Socket>((resolve) => {
      const socket = createConnection(port, '127.0.0.1', () => resolve(socket));
      socket.setNoDelay(true);
      socket.on('data', () => undefined);
    })),
  );
  const cpu = (): Promise<number> => {
    const reply = next();
    child.send('cpu');
    return reply;
  };
  const serverBefore = await cpu();
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  let sent = 0;
  const timers = sockets.map((socket) => {
    let mine = 0;
    return setInterval(() => {
      const due = Math.floor(((performance.now() - started) * rate) / clients / 1000) - mine;
      for (let k = 0; k < due; k++) socket.write(packet);
      mine += due;
      sent += due;
    }, 1);
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  for (const timer of timers) clearInterval(timer);
  const server = (await cpu()) - serverBefore;
  const own = process.cpuUsage(ownBefore);
  console.log(
    `rate ${rate}/s, ${sent} packets: server ${((server * 1e6) / sent).toFixed(1)} µs per packet (one read, one 4-byte write), ` +
      `clients ${((own.user + own.system) / sent).toFixed(1)} µs`,
  );
  for (const socket of sockets) socket.destroy();
  child.disconnect();
}

if (process.argv.includes('--serve')) serve();
else await drive(arg('--rate', 12_000), arg('--seconds', 5));

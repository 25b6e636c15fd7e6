import type { Server } from 'node:net';

/** Starts `server` listening on host:port; resolves with the port it bound (the one chosen when port is 0). */
export function listen(server: Server, port: number, host: string, backlog = 4096): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

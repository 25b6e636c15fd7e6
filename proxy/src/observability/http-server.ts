import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from '../server/listen.js';

export interface OpsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** Why the process (a proxy, the operator) is not ready, or undefined when it is. */
  readonly notReadyReason: () => string | undefined;
}

/** The operations endpoint: `/metrics` (Prometheus), `/healthz` (process alive), `/readyz` (serving). */
export class OpsServer {
  private readonly server: Server;

  constructor(private readonly options: OpsServerOptions) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch(() => {
        res.statusCode = 500;
        res.end('error\n');
      });
    });
  }

  /** Listens; resolves with the bound port. */
  listen(): Promise<number> {
    return listen(this.server, this.options.port, this.options.host);
  }


  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      const body = await this.options.registry.metrics();
      res.setHeader('Content-Type', this.options.registry.contentType);
      res.end(body);
    } else if (path === '/healthz') {
      res.end('ok\n');
    } else if (path === '/readyz') {
      const reason = this.options.notReadyReason();
      res.statusCode = reason === undefined ? 200 : 503;
      res.end(reason === undefined ? 'ready\n' : `not ready: ${reason}\n`);
    } else {
      res.statusCode = 404;
      res.end('not found\n');
    }
  }
}

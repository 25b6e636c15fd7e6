import { createServer, type Server, type Socket } from 'node:net';
import { listen } from './listen.js';

export interface TcpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly onSocket: (socket: Socket, remoteAddress: string) => void;
}

/** MQTT over TCP: accepts sockets and hands each to the proxy. */
export class TcpListener {
  private readonly server: Server;

  constructor(private readonly options: TcpListenerOptions) {
    this.server = createServer({ noDelay: true }, (socket) => {
      socket.on('error', () => socket.destroy()); // errors before the connection takes the socket over
      options.onSocket(socket, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`);
    });
  }

  /** Listens; resolves with the bound port. */
  listen(): Promise<number> {
    return listen(this.server, this.options.port, this.options.host);
  }


  /** Stops accepting; open connections are closed by their owners. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { listen } from './listen.js';

export interface WebSocketListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Largest WebSocket message accepted (bounds the frames before MQTT sees them). */
  readonly maxPayloadBytes: number;
  readonly onStream: (stream: Duplex, remoteAddress: string) => void;
}

/** MQTT over WebSocket on `path`, sub-protocol `mqtt` (MQTT 5 §6). */
export class WebSocketListener {
  private readonly http: Server;
  private readonly wss: WebSocketServer;

  constructor(private readonly options: WebSocketListenerOptions) {
    this.http = createServer((_req, res) => {
      res.statusCode = 426;
      res.end('MQTT over WebSocket only\n');
    });
    this.wss = new WebSocketServer({
      server: this.http,
      path: options.path,
      maxPayload: options.maxPayloadBytes,
      // [MQTT-6.0.0-3] the sub-protocol is "mqtt" (MQTT 3.1 clients may send "mqttv3.1")
      handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
    });
    this.wss.on('connection', (ws, req) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => stream.destroy());
      options.onStream(stream, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`);
    });
  }

  listen(): Promise<number> {
    return listen(this.http, this.options.port, this.options.host);
  }


  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const ws of this.wss.clients) ws.terminate();
      this.wss.close();
      this.http.close(() => resolve());
    });
  }
}

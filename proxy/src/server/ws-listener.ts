import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { TlsSettings } from '../config/schema.js';
import type { PeerIdentity } from '../protocol/connection.js';
import { listen } from './listen.js';
import type { TlsCredentials } from './tls-credentials.js';
import { handshakeFailureReason, peerIdentityOf, tlsServerOptions, type HandshakeFailure } from './tls-listener.js';

export interface WebSocketListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Largest WebSocket message accepted (bounds the frames before MQTT sees them). */
  readonly maxPayloadBytes: number;
  /** wss:// (HTTPS) with these credentials, owned by the listener; ws:// when absent. */
  readonly tls?: { readonly settings: Pick<TlsSettings, 'requireClientCert' | 'caFile' | 'handshakeTimeoutMs'>; readonly credentials: TlsCredentials };
  readonly onStream: (stream: Duplex, remoteAddress: string, peerIdentity: PeerIdentity | undefined) => void;
  /** A failed or timed-out TLS handshake (wss only). */
  readonly onHandshakeError?: (reason: HandshakeFailure, remoteAddress: string) => void;
}

/** MQTT over WebSocket on `path`, sub-protocol `mqtt` (MQTT 5 §6). */
export class WebSocketListener {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly unsubscribe: () => void = () => undefined;

  constructor(private readonly options: WebSocketListenerOptions) {
    const refuse = (_req: unknown, res: { statusCode: number; end(text: string): void }): void => {
      res.statusCode = 426;
      res.end('MQTT over WebSocket only\n');
    };
    const tls = options.tls;
    if (tls === undefined) {
      this.http = createServer(refuse);
    } else {
      const https = createHttpsServer(tlsServerOptions(tls.settings, tls.credentials), refuse);
      https.on('tlsClientError', (err, socket) => {
        socket.destroy();
        options.onHandshakeError?.(handshakeFailureReason(err), `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`);
      });
      this.unsubscribe = tls.credentials.onChange((context) => https.setSecureContext(context));
      this.http = https;
    }
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
      const identity = req.socket instanceof TLSSocket ? peerIdentityOf(req.socket) : undefined;
      options.onStream(stream, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`, identity);
    });
  }

  listen(): Promise<number> {
    return listen(this.http, this.options.port, this.options.host);
  }


  close(): Promise<void> {
    this.unsubscribe();
    this.options.tls?.credentials.close();
    return new Promise((resolve) => {
      for (const ws of this.wss.clients) ws.terminate();
      this.wss.close();
      this.http.close(() => resolve());
    });
  }
}

import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { loadListenerSecurity, type ListenerSecurities } from '../auth/listener-securities.js';
import type { ListenerSecurity } from '../auth/listener-security.js';
import type { ProxyConfig } from '../config/schema.js';
import type { ProxyMetrics } from '../observability/metrics.js';
import type { PeerIdentity } from '../protocol/connection.js';
import { TcpListener } from './tcp-listener.js';
import { TlsCredentials } from './tls-credentials.js';
import { TlsListener } from './tls-listener.js';
import { WebSocketListener } from './ws-listener.js';

/** The MQTT ports the listeners bound (useful when the configuration asked for port 0). */
export interface ListenerPorts {
  readonly mqtt?: number;
  /** MQTT over TLS. */
  readonly tls?: number;
  readonly websocket?: number;
}

/** Hands an accepted stream to the proxy, with the client certificate and the authentication chain of its listener. */
export type AcceptStream = (stream: Duplex, remoteAddress: string, peerIdentity: PeerIdentity | undefined, security: ListenerSecurity | undefined) => void;

export interface StartedListeners {
  /** In the order they started; each close() stops accepting and settles once its last connection ended. */
  readonly listeners: readonly { close(): Promise<void> }[];
  readonly ports: ListenerPorts;
  /** The authentication chains of the listeners (closed by the proxy at shutdown). */
  readonly securities: ListenerSecurities;
}

/**
 * Starts the listeners the configuration names, in this order: MQTT over TCP, MQTT over TLS, WebSocket (with
 * TLS when configured). Each accepted stream goes to `accept`; failed TLS handshakes are counted and logged.
 */
export async function startListeners(config: ProxyConfig, log: Logger, metrics: ProxyMetrics, accept: AcceptStream): Promise<StartedListeners> {
  const { mqtt, websocket, tls } = config.listeners;
  const securities = await loadListenerSecurity(config, log);
  const listeners: { close(): Promise<void> }[] = [];
  let ports: ListenerPorts = {};
  const onHandshakeError =
    (listener: 'tls' | 'wss') =>
    (reason: string, remote: string): void => {
      metrics.tlsHandshakeFailed(listener, reason);
      log.debug({ listener, reason, remote }, 'TLS handshake failed');
    };
  if (mqtt !== undefined) {
    const security = securities.of('mqtt');
    const tcp = new TcpListener({ ...mqtt, onSocket: (socket, remote) => accept(socket, remote, undefined, security) });
    listeners.push(tcp);
    ports = { ...ports, mqtt: await tcp.listen() };
  }
  if (tls !== undefined) {
    const credentials = await TlsCredentials.load({ settings: tls, log });
    const listener = new TlsListener({
      host: tls.host,
      port: tls.port,
      settings: tls,
      credentials,
      onSocket: (socket, remote, identity) => accept(socket, remote, identity, securities.of('tls')),
      onHandshakeError: onHandshakeError('tls'),
    });
    listeners.push(listener);
    ports = { ...ports, tls: await listener.listen() };
  }
  if (websocket !== undefined) {
    const { tls: wssSettings, ...plain } = websocket;
    const wssTls = wssSettings === undefined ? undefined : { settings: wssSettings, credentials: await TlsCredentials.load({ settings: wssSettings, log }) };
    const ws = new WebSocketListener({
      ...plain,
      ...(wssTls === undefined ? {} : { tls: wssTls }),
      maxPayloadBytes: config.limits.maxPacketSizeBytes,
      onStream: (stream, remote, identity) => accept(stream, remote, identity, securities.of('websocket')),
      onHandshakeError: onHandshakeError('wss'),
    });
    listeners.push(ws);
    ports = { ...ports, websocket: await ws.listen() };
  }
  return { listeners, ports, securities };
}

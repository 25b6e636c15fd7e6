import { createServer, type Server, type TLSSocket, type TlsOptions } from 'node:tls';
import type { TlsSettings } from '../config/schema.js';
import type { PeerIdentity } from '../protocol/connection.js';
import { listen } from './listen.js';
import type { TlsCredentials } from './tls-credentials.js';

/** Why a TLS handshake failed, as a bounded label: an OpenSSL error code, `timeout` or `other`. */
export type HandshakeFailure = string;

export interface TlsListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly settings: Pick<TlsSettings, 'requireClientCert' | 'caFile' | 'handshakeTimeoutMs'>;
  /** Owned by the listener: closed with it. */
  readonly credentials: TlsCredentials;
  readonly onSocket: (socket: TLSSocket, remoteAddress: string, peerIdentity: PeerIdentity | undefined) => void;
  /** A failed or timed-out handshake (the socket is already destroyed). */
  readonly onHandshakeError?: (reason: HandshakeFailure, remoteAddress: string) => void;
}

/**
 * Server options shared by MQTT over TLS and wss: the current credentials, client certificates requested when a
 * CA is configured (and required with `requireClientCert`), and the handshake timeout.
 */
export function tlsServerOptions(settings: TlsListenerOptions['settings'], credentials: TlsCredentials): TlsOptions {
  return {
    ...credentials.current,
    requestCert: settings.caFile !== undefined,
    rejectUnauthorized: settings.requireClientCert,
    handshakeTimeout: settings.handshakeTimeoutMs,
  };
}

/** The verified client certificate's subject, or undefined when none was presented or it did not verify. */
export function peerIdentityOf(socket: TLSSocket): PeerIdentity | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (Object.keys(cert).length === 0) return undefined;
  const cn: unknown = (cert.subject as Record<string, unknown> | undefined)?.CN;
  const commonName = typeof cn === 'string' ? cn : Array.isArray(cn) && typeof cn[0] === 'string' ? cn[0] : undefined;
  return { ...(commonName === undefined ? {} : { commonName }), subjectAltNames: parseSubjectAltNames(cert.subjectaltname) };
}

/**
 * Splits Node's `subjectaltname` string (`DNS:a, URI:b, IP Address:1.2.3.4`); a value holding a comma or quote is
 * printed JSON-quoted by Node, and is unquoted here.
 */
export function parseSubjectAltNames(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  const names: string[] = [];
  const entry = /(?:^|, )([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const match of text.matchAll(entry)) {
    const [, type = '', raw = ''] = match;
    names.push(`${type}:${raw.startsWith('"') ? (JSON.parse(raw) as string) : raw}`);
  }
  return names;
}

/** The label counted for a failed handshake: OpenSSL's code when there is one. */
export function handshakeFailureReason(err: unknown): HandshakeFailure {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'other';
}

/**
 * MQTT over TLS: accepts a socket once its handshake completed (so the CONNECT timeout starts after it) and hands
 * it to the proxy with the verified client certificate's identity. Certificates are swapped without a restart
 * when the files change; handshake failures are counted and never reach the process.
 */
export class TlsListener {
  private readonly server: Server;
  private readonly unsubscribe: () => void;
  private failures = 0;

  constructor(private readonly options: TlsListenerOptions) {
    const { credentials, settings } = options;
    this.server = createServer(tlsServerOptions(settings, credentials), (socket) => {
      const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      socket.on('error', () => socket.destroy()); // errors before the connection takes the socket over
      options.onSocket(socket, remote, peerIdentityOf(socket));
    });
    this.server.on('tlsClientError', (err, socket) => {
      this.failures += 1;
      socket.destroy();
      options.onHandshakeError?.(handshakeFailureReason(err), `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`);
    });
    this.unsubscribe = credentials.onChange((context) => this.server.setSecureContext(context));
  }

  /** Failed or timed-out handshakes since start. */
  get handshakeFailures(): number {
    return this.failures;
  }

  /** Listens; resolves with the bound port. */
  listen(): Promise<number> {
    return listen(this.server, this.options.port, this.options.host);
  }

  /** Stops accepting; open connections are closed by their owners. */
  close(): Promise<void> {
    this.unsubscribe();
    this.options.credentials.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

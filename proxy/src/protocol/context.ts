import type { Logger } from 'pino';
import type { ListenerSecurity } from '../auth/listener-security.js';
import type { Clock } from '../clock.js';
import type { OfflineSettings, ProxyLimits } from '../config/schema.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { TakeoverBus } from '../sessions/takeover-bus.js';
import type { ClientRegistry } from './client-registry.js';
import type { CursorFlusher } from './cursor-flusher.js';
import type { DeadlineQueue } from './deadline-queue.js';
import type { ConnectRateLimiter } from './connect-rate-limit.js';
import type { ConnectAdmission } from './connect-admission.js';
import type { MessageRouter, ProtocolMetrics } from './ports.js';

/** Why the proxy refuses new connections right now, if it does. */
export type Admission = 'accept' | 'unavailable' | 'busy';

/** Everything a client connection needs from the proxy, built once in main.ts and shared by every connection. */
export interface ProxyContext {
  readonly proxyId: string;
  readonly clock: Clock;
  readonly limits: ProxyLimits;
  readonly offline: OfflineSettings;
  /** Writes the cursors of connected persistent sessions to the store now and then. */
  readonly cursorFlusher: CursorFlusher;
  /** The CONNECT and keepalive deadlines of every connection: one timer for the proxy. */
  readonly deadlines: DeadlineQueue;
  readonly log: Logger;
  readonly metrics: ProtocolMetrics;
  readonly router: MessageRouter;
  readonly sessions: SessionStore;
  readonly registry: ClientRegistry;
  /** Tells another proxy that a client id it holds was taken here. */
  readonly takeover: TakeoverBus;
  /** Whether a CONNECT may be accepted now (ring loaded, not draining, below the connection limit). */
  admission(): Admission;
  /** Bounded concurrent session opens with a bounded FIFO wait (reconnect storms). */
  readonly connectAdmission: ConnectAdmission;
  /** A fresh de-duplication id for a stored message. */
  nextMessageId(): string;
  /** The authentication chain and ACL of the connection's listener; absent: every client is accepted. */
  readonly security?: ListenerSecurity;
  /** Connect-rate token buckets (per source address, per proxy); absent: no limit. */
  readonly connectRate?: ConnectRateLimiter;
}

import type { Packet } from 'mqtt-packet';
import type { ClientAccess } from '../auth/acl.js';
import { BackendUnavailableError, ProtocolError } from '../errors.js';
import type { SessionCursors } from '../sessions/session-store.js';
import type { RegisteredClient } from './client-registry.js';
import type { Connection, ConnectionEvents } from './connection.js';
import type { CursorSource } from './cursor-flusher.js';
import type { DeadlineHolder } from './deadline-queue.js';
import type { ProxyContext } from './context.js';
import { dispatchPacket } from './handlers/dispatch.js';
import { OrderedReplies } from './ordered-replies.js';
import { ReasonCode, toConnackReturnCode, type ReasonCode as ReasonCodeValue } from './reason-codes.js';
import { leaveSession } from './session-end.js';
import type { Session } from './session.js';
import { NO_INBOUND_ALIASES, type InboundTopicAliases } from './topic-aliases.js';
import type { Will } from './will.js';

/** Where a client connection is in its life. */
export type ClientState = 'awaiting-connect' | 'connecting' | 'connected' | 'closed';

/** CONNACK codes that a v3.1.1 client can be told; other failures just close [MQTT-3.2.2-?]. */
const CONNACK_V3_CODES: ReadonlySet<number> = new Set([
  ReasonCode.UnsupportedProtocolVersion,
  ReasonCode.ClientIdentifierNotValid,
  ReasonCode.BadUserNameOrPassword,
  ReasonCode.NotAuthorized,
  ReasonCode.ServerUnavailable,
  ReasonCode.ServerBusy,
  ReasonCode.QuotaExceeded,
]);

/**
 * The protocol state machine of one client connection: waits for CONNECT within the timeout, dispatches each
 * packet to its handler, enforces keepalive, turns every error into the reason code the spec names (one place),
 * and on close stores the session and publishes the will when the close was abnormal.
 *
 * An idle connection is most of a large fleet, so this holds little up front: the CONNECT and keepalive bounds are
 * a deadline in the proxy's one DeadlineQueue (no timer of its own), it is its connection's event listener (no
 * closures), and its queues, ordered replies and the `closed` promise are made when first needed.
 */
export class ClientHandler implements RegisteredClient, CursorSource, ConnectionEvents, DeadlineHolder {
  state: ClientState = 'awaiting-connect';
  clientId = '';
  session: Session | undefined;
  will: Will | undefined;
  /** What the ACL lets this connection publish and subscribe to (set by the authentication chain at CONNECT). */
  access: ClientAccess | undefined;
  /** The will is armed in the session store (published by another proxy if this one dies): drop it at a normal close. */
  willArmed = false;
  /** The session outlives the connection (v3 clean=false, v5 Session Expiry Interval > 0). */
  persistent = false;
  /** The epoch this connection holds the session at; every session write is fenced by it. */
  epoch: number | undefined;
  /** Client keepalive in ms (0 = none); the connection is closed after 1.5 × without a packet [MQTT-3.1.2-24]. */
  keepaliveMs = 0;
  /** The client asked for reason strings and user properties on failures (MQTT 5 Request Problem Information). */
  problemInformation = true;
  inboundAliases: InboundTopicAliases = NO_INBOUND_ALIASES;
  /** QoS 1/2 PUBLISHes received and not yet answered (their stores are in flight). */
  inboundPending = 0;
  /** Where this connection's deadline is in ctx.deadlines (see DeadlineQueue). */
  deadlineAtMs = 0;
  deadlineSlot = -1;
  private lastActivityMs: number;
  private orderedReplies: OrderedReplies<Packet> | undefined;
  /** Packets pipelined after CONNECT, handled once CONNACK is out. */
  private queued: Packet[] | undefined;
  /** Packets waiting for a QoS 1/2 store slot (see onPacket). */
  private held: Packet[] | undefined;
  /** Resolves once the connection closed and its session was stored (made when someone awaits it). */
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(
    readonly conn: Connection,
    readonly ctx: ProxyContext,
  ) {
    this.lastActivityMs = ctx.clock.now();
    ctx.metrics.connectionOpened();
    ctx.deadlines.schedule(this, ctx.limits.connectTimeoutMs);
    conn.start(this);
  }

  /** PUBACKs and the other replies, in the order of their requests (see OrderedReplies). */
  get replies(): OrderedReplies<Packet> {
    return (this.orderedReplies ??= new OrderedReplies<Packet>((reply) => this.conn.send(reply)));
  }

  /** MQTT 5 features (properties, reason codes) apply. */
  get isV5(): boolean {
    return this.conn.protocolVersion === 5;
  }

  /** CONNECT was accepted: start keepalive and process what arrived meanwhile. */
  connected(): void {
    this.state = 'connected';
    if (this.keepaliveMs > 0) this.ctx.deadlines.schedule(this, this.keepaliveMs * 1.5);
    else this.ctx.deadlines.cancel(this);
    if (this.persistent) this.ctx.cursorFlusher.track(this);
    const pending = this.queued ?? [];
    this.queued = undefined;
    for (const packet of pending) this.dispatch(packet);
  }

  /** The client sent DISCONNECT: close; the will was discarded unless v5 reason 0x04 kept it [MQTT-3.14.4-3]. */
  disconnectedNormally(): void {
    this.conn.end();
  }

  /** Another connection claimed this client id [MQTT-3.1.4-2]: disconnect with 0x8E and await the stored session. */
  takeOver(): Promise<void> {
    this.closeWithReason(ReasonCode.SessionTakenOver, 'session taken over by another connection');
    return this.whenClosed();
  }

  /** Disconnects for a server-side reason (shutdown, administrative action), with a server reference if any. */
  disconnect(reasonCode: ReasonCodeValue, serverReference?: string): Promise<void> {
    this.closeWithReason(reasonCode, undefined, serverReference);
    return this.whenClosed();
  }

  /** Resolves once the connection closed and its session and will were left in the store. */
  private whenClosed(): Promise<void> {
    return (this.closed ??= new Promise((resolve) => (this.resolveClosed = resolve)));
  }

  /** After close: `closed` resolves (or is already resolved when made later). */
  private settleClosed(): void {
    if (this.resolveClosed !== undefined) this.resolveClosed();
    else this.closed = Promise.resolve();
  }

  /** The session's offline cursors as they stand (for the periodic write). */
  currentCursors(): SessionCursors | undefined {
    return this.session?.currentCursors();
  }

  /** Reports an error the spec names a reason code for, or an internal one, and closes. */
  fail(error: unknown): void {
    if (this.state === 'closed') return;
    if (error instanceof ProtocolError) {
      this.ctx.log.debug({ clientId: this.clientId, reasonCode: error.reasonCode, err: error.message }, 'protocol error');
      this.closeWithReason(error.reasonCode, error.message);
      return;
    }
    if (error instanceof BackendUnavailableError) {
      this.ctx.log.warn({ clientId: this.clientId, backend: error.backend, err: error.message }, 'backend unavailable');
      this.closeWithReason(ReasonCode.ServerUnavailable, error.message);
      return;
    }
    this.ctx.log.error({ clientId: this.clientId, err: error }, 'unexpected error handling a client');
    this.closeWithReason(ReasonCode.UnspecifiedError, 'internal error');
  }

  /** Sends the failure in the form the protocol and the state allow (CONNACK or DISCONNECT), then closes. */
  closeWithReason(reasonCode: ReasonCodeValue, reasonString?: string, serverReference?: string): void {
    if (this.state === 'closed' || this.conn.isClosed) return;
    const properties = {
      ...(reasonString !== undefined && this.problemInformation ? { reasonString: reasonString.slice(0, 200) } : {}),
      ...(serverReference === undefined ? {} : { serverReference }),
    };
    if (this.state !== 'connected') {
      if (this.isV5) this.conn.send({ cmd: 'connack', sessionPresent: false, reasonCode, properties });
      else if (CONNACK_V3_CODES.has(reasonCode)) {
        this.conn.send({ cmd: 'connack', sessionPresent: false, returnCode: toConnackReturnCode(reasonCode) });
      }
    } else if (this.isV5) {
      this.conn.send({ cmd: 'disconnect', reasonCode, properties }); // [MQTT-3.14.0-1] only after CONNACK
    }
    this.conn.end();
  }

  /**
   * A QoS 1/2 store of this connection finished: packets held back for the Receive Maximum go on, in order, and
   * reading resumes once none is held.
   */
  storeSettled(): void {
    const limit = this.ctx.limits.receiveMaximum;
    while (this.held !== undefined && this.held.length > 0 && this.inboundPending < limit && this.state === 'connected') {
      const packet = this.held.shift();
      if (packet !== undefined) this.dispatch(packet);
    }
    if (this.held?.length === 0) this.held = undefined;
    if (this.held === undefined) this.conn.resume();
  }

  /** ConnectionEvents: a decoded packet. */
  onPacket(packet: Packet): void {
    this.lastActivityMs = this.ctx.clock.now();
    this.ctx.metrics.packetReceived(packet.cmd);
    if (this.state === 'connecting') {
      (this.queued ??= []).push(packet); // pipelined after CONNECT: handled once CONNACK is out
      return;
    }
    // Flow control: at most Receive Maximum QoS 1/2 stores run per connection. A PUBLISH beyond it waits here
    // with every packet after it (order is kept) and reading pauses, so what waits is bounded by one read.
    const atLimit = packet.cmd === 'publish' && packet.qos > 0 && this.inboundPending >= this.ctx.limits.receiveMaximum;
    if (atLimit || this.held !== undefined) {
      (this.held ??= []).push(packet);
      this.conn.pause();
      return;
    }
    this.dispatch(packet);
  }

  private dispatch(packet: Packet): void {
    try {
      const pending = dispatchPacket(this, packet);
      if (pending !== undefined) pending.catch((err: unknown) => this.fail(err));
    } catch (err: unknown) {
      this.fail(err);
    }
  }

  /** ConnectionEvents: a protocol violation or a transport error. */
  onError(error: Error): void {
    this.fail(error);
  }

  /** ConnectionEvents: the socket drained. */
  onDrain(): void {
    this.session?.outbound.pump();
  }

  /** DeadlineHolder: no CONNECT within the connect timeout, or the keepalive bound passed (unless a packet came). */
  deadlinePassed(): void {
    if (this.state === 'awaiting-connect') {
      this.ctx.metrics.connect('timeout');
      this.conn.destroy(); // [MQTT-3.1.4-?] no CONNECT within a reasonable time
      return;
    }
    if (this.state !== 'connected' || this.keepaliveMs <= 0) return;
    const idleMs = this.ctx.clock.now() - this.lastActivityMs;
    const limitMs = this.keepaliveMs * 1.5;
    if (idleMs >= limitMs) this.closeWithReason(ReasonCode.KeepAliveTimeout, 'keepalive timeout'); // [MQTT-3.1.2-24]
    else this.ctx.deadlines.schedule(this, limitMs - idleMs);
  }

  /** ConnectionEvents: the transport closed. */
  onClose(): void {
    const previous = this.state;
    this.state = 'closed';
    this.ctx.deadlines.cancel(this);
    this.ctx.metrics.connectionClosed();
    this.ctx.registry.release(this.clientId, this);
    this.ctx.cursorFlusher.untrack(this);
    if (previous !== 'connected') {
      this.settleClosed();
      return;
    }
    this.session?.detach();
    // [MQTT-3.1.2-8] DISCONNECT 0x00 removed the will; closed resolves once the will is left and the session stored
    void leaveSession(this).finally(() => this.settleClosed());
  }
}

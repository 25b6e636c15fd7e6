import type { QoS } from '../backend/message.js';
import type { OutboundMessage } from '../protocol/outbound-flow.js';
import type { Will } from '../protocol/will.js';
import type { CorruptSessionError } from './session-errors.js';

/** The MQTT 5 session expiry interval that means "never expires" (MQTT 5 §3.1.2.11.2). */
export const SESSION_NEVER_EXPIRES = 0xffff_ffff;

/** One subscription of a session, as stored. */
export interface SubscriptionRecord {
  /** The filter exactly as subscribed, including a `$share/<group>/` prefix. */
  readonly topicFilter: string;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: 0 | 1 | 2;
  readonly subscriptionId?: number;
}

/** An outbound QoS 1/2 message sent but not yet acknowledged. */
export interface InflightRecord {
  readonly packetId: number;
  readonly message: OutboundMessage;
  /** QoS 2: PUBREL was sent. */
  readonly released: boolean;
}

/** An inbound QoS 2 flow awaiting PUBREL. */
export interface Qos2InboundRecord {
  readonly packetId: number;
  readonly messageId: string;
}

/** Last delivered SHOAL_MSGS stream sequence, per shard id: where offline delivery resumes. */
export type SessionCursors = Readonly<Record<string, number>>;

/** The state of a session that outlives its connection. */
export interface SessionRecord {
  readonly clientId: string;
  readonly protocolVersion: 3 | 4 | 5;
  /** Seconds the session lives after its connection closes; SESSION_NEVER_EXPIRES for v3 persistent sessions. */
  readonly expiryIntervalSeconds: number;
  readonly subscriptions: readonly SubscriptionRecord[];
  readonly inflightOut: readonly InflightRecord[];
  /**
   * Inbound QoS 2 PUBLISHes received but not yet released by PUBREL, with the de-duplication id their message was
   * stored under: a re-sent PUBLISH (DUP) is stored again under the same id, so JetStream keeps it once.
   */
  readonly qos2In: readonly Qos2InboundRecord[];
  readonly cursors: SessionCursors;
}

/** What a new connection tells the store when it takes a client id. */
export interface OpenOptions {
  /** Discard any stored session [MQTT-3.1.2-4]; otherwise resume it if it has not expired [MQTT-3.1.2-5]. */
  readonly cleanStart: boolean;
  /** The proxy taking the session: recorded as its owner, so a later open elsewhere knows whom to take it from. */
  readonly proxyId: string;
  /** The caller's clock (ms since the epoch): expiry is judged by it. */
  readonly nowMs: number;
  /**
   * The new connection's protocol version and Session Expiry Interval. Stored at once, so a session whose proxy
   * dies while it is connected can still be resumed (with the subscriptions and cursors written since).
   */
  readonly protocolVersion: 3 | 4 | 5;
  readonly expiryIntervalSeconds: number;
}

/** The result of `open`. */
export interface OpenedSession {
  /** Fences every later write of this connection; larger than any epoch this client id had before. */
  readonly epoch: number;
  /** The stored session, resumed; undefined on clean start, when there was none, or when it had expired. */
  readonly record: SessionRecord | undefined;
  /**
   * The proxy recorded as holding a live connection for this client id (open without a save or delete since):
   * the connection to take over [MQTT-3.1.4-2]. It may be the caller itself.
   */
  readonly previousOwner?: string;
  /**
   * The delayed will of the session this open ended (clean start, or the session had expired): publish it now,
   * the session ended before its delay [MQTT-3.1.3-9]. A resumed session cancels its pending will instead.
   */
  readonly endedWill?: Will;
}

/** Subscriptions added or replaced (`put`, by topic filter) and removed (`remove`, topic filters). */
export interface SubscriptionChange {
  readonly put?: readonly SubscriptionRecord[];
  readonly remove?: readonly string[];
}

/** Something due in the expiry index, claimed by exactly one caller of `claimDue`. */
export type DueEntry =
  | {
      /** A delayed will whose delay passed and whose session was not resumed: publish it. */
      readonly kind: 'will';
      readonly clientId: string;
      /** The epoch of the connection that left the will. */
      readonly epoch: number;
      readonly dueMs: number;
      readonly will: Will;
    }
  | {
      /** A session that expired and has now been removed: release what it held (e.g. shared-group membership). */
      readonly kind: 'session-expired';
      readonly clientId: string;
      readonly epoch: number;
      readonly dueMs: number;
    }
  | {
      /** A due will that could not be read back (claimed all the same): log and count it, there is nothing to publish. */
      readonly kind: 'corrupt';
      readonly clientId: string;
      readonly dueMs: number;
      readonly error: CorruptSessionError;
    };

/** What `heartbeat` found. */
export interface Heartbeat {
  /** The caller was registered: false at its first heartbeat, or when another proxy took it for dead meanwhile. */
  readonly known: boolean;
  /** Proxies claimed for dead by this caller, with their last heartbeat: orphan their sessions as of then. */
  readonly dead: readonly { readonly proxyId: string; readonly lastSeenMs: number }[];
}

/**
 * Where sessions live between connections, shared by every proxy of a fleet (Redis) or serving one proxy and the
 * unit tests (memory); one contract test suite holds both to the same behaviour.
 *
 * Epochs and fencing: `open` takes a new epoch for the client id: one more than the stored one, and never less
 * than `nowMs`. A deleted or expired session's epoch is remembered for a while (a tombstone) and epochs start from
 * the opener's clock after that, so an epoch is not handed out twice. Every later write names the epoch its
 * connection got; a write whose epoch is not the stored one (a newer connection took the session, or the session
 * is gone) changes nothing and rejects with `StaleSessionError`.
 *
 * Expiry: `save` starts the session's expiry (`expiryIntervalSeconds` from `nowMs`; SESSION_NEVER_EXPIRES: never)
 * and puts it in the expiry index; `open` after that time finds no session. Delayed wills wait in the same index.
 * `claimDue` hands each due entry to one caller only, whichever proxy that is. Records that cannot be read back
 * reject with `CorruptSessionError`; an unreachable store rejects with `BackendUnavailableError`.
 */
export interface SessionStore {
  /**
   * Takes the session of `clientId` for a new connection (atomically): a new epoch, this proxy as owner, and the
   * stored session unless clean start or expired. The session stays stored (it does not expire while connected).
   */
  open(clientId: string, options: OpenOptions): Promise<OpenedSession>;
  /**
   * Stores the whole session as its connection leaves it, records the disconnect time, and starts the expiry. A
   * record with `expiryIntervalSeconds` 0 ends the session: it is deleted.
   */
  save(record: SessionRecord, epoch: number, nowMs: number): Promise<void>;
  /** Removes the session (not its pending will, which still fires when due). */
  delete(clientId: string, epoch: number): Promise<void>;
  /** Writes subscription changes while connected, so they survive a crash of this proxy. */
  updateSubscriptions(clientId: string, epoch: number, change: SubscriptionChange): Promise<void>;
  /** Sets the cursors of the given shards (others are kept). */
  updateCursors(clientId: string, epoch: number, cursors: SessionCursors): Promise<void>;
  /**
   * Leaves a will to be published at `dueMs` unless the session is resumed first; replaces an earlier one. Rejected
   * (StaleSessionError) when a newer connection already took the session: no will then [MQTT-3.1.3-9]. `nowMs` (the
   * caller's clock, like `dueMs`) only bounds how long an unclaimed will is kept.
   */
  scheduleWill(clientId: string, epoch: number, dueMs: number, will: Will, nowMs: number): Promise<void>;
  /**
   * Keeps the will of a connection while it is connected, armed: it has no due time and fires only if the proxy
   * holding the connection dies (`orphanSessions`), `delayMs` after that. `scheduleWill` at an abnormal close
   * replaces it, `cancelWill` at a normal one drops it; `open` treats it as any pending will (a clean start ends the
   * session: `endedWill`).
   */
  armWill(clientId: string, epoch: number, will: Will, delayMs: number): Promise<void>;
  /** Drops the pending (or armed) will of the session. */
  cancelWill(clientId: string, epoch: number): Promise<void>;
  /**
   * Claims up to `limit` entries due at `nowMs` (at most once each, fleet-wide) and returns those still live:
   * wills whose session was not resumed, and sessions that were still expired (which are removed). A claimer that
   * dies before acting on what it claimed loses it (at-most-once).
   */
  claimDue(nowMs: number, limit: number): Promise<DueEntry[]>;
  /**
   * Records that proxy `proxyId` is alive at `nowMs` and claims, at most once fleet-wide, the proxies not heard
   * from for `livenessMs`: the caller orphans their sessions.
   */
  heartbeat(proxyId: string, nowMs: number, livenessMs: number): Promise<Heartbeat>;
  /**
   * Ends up to `limit` of the sessions that `proxyId` (a dead proxy, or this proxy's previous life) held connected
   * since `open`: each is disconnected at `nowMs` with what was last written (its expiry starts, as at `save`), and
   * its armed will becomes due after its delay. Resolves with how many were looked at; 0 when none is left.
   */
  orphanSessions(proxyId: string, nowMs: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

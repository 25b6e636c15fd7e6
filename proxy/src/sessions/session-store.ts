import type { QoS } from '../backend/message.js';
import type { OutboundMessage } from '../protocol/outbound-flow.js';

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
}

/**
 * Where sessions live between connections. The memory implementation serves a single proxy and the unit tests;
 * the Redis implementation (shared by every proxy) follows the same contract.
 */
export interface SessionStore {
  /**
   * Takes the session of `clientId` for a new connection. With `cleanStart` any stored session is discarded
   * [MQTT-3.1.2-4]; otherwise the stored session is returned if it has not expired [MQTT-3.1.2-5].
   */
  open(clientId: string, cleanStart: boolean): Promise<SessionRecord | undefined>;
  /** Stores the session as its connection leaves it; it expires `expiryIntervalSeconds` from now. */
  save(record: SessionRecord): Promise<void>;
  /** Removes a session. */
  delete(clientId: string): Promise<void>;
  /** Sessions currently stored. */
  count(): Promise<number>;
  close(): Promise<void>;
}

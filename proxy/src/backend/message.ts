/** A QoS level as MQTT defines it. */
export type QoS = 0 | 1 | 2;

/** MQTT 5 user properties: each key may repeat, order is kept [MQTT-3.3.2-18]. */
export type UserProperties = Record<string, string | string[]>;

/**
 * The MQTT 5 properties of a PUBLISH that the broker forwards unaltered to subscribers
 * [MQTT-3.3.2-4], [MQTT-3.3.2-15], [MQTT-3.3.2-16], [MQTT-3.3.2-17], [MQTT-3.3.2-20].
 */
export interface ForwardedProperties {
  readonly payloadFormatIndicator?: boolean;
  readonly contentType?: string;
  readonly responseTopic?: string;
  readonly correlationData?: Uint8Array;
  readonly userProperties?: UserProperties;
}

/** An application message as it enters the backend from a publisher (or a will). */
export interface Message {
  /** MQTT topic name, already validated. */
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties?: ForwardedProperties;
  /** Absolute expiry time in epoch milliseconds, from the Message Expiry Interval. */
  readonly expiresAtMs?: number;
  /** Client id of the publisher: used for the No Local option [MQTT-3.8.3-3]. */
  readonly originClientId?: string;
}

/** A message as the backend hands it to the proxy for delivery to local sessions. */
export interface DeliveredMessage extends Message {
  /** The shard it came through. */
  readonly shardId: string;
  /** The SHOAL_MSGS stream sequence on that shard, for stored (QoS ≥ 1) messages. */
  readonly sequence?: number;
}

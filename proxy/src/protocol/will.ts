import type { Message } from '../backend/message.js';

/** A Will Message with its delay, taken from CONNECT. */
export interface Will {
  readonly message: Message;
  /** Will Delay Interval in seconds (MQTT 5); 0 publishes at once. */
  readonly delaySeconds: number;
  /** Message Expiry Interval in seconds (MQTT 5): it starts when the will is published (MQTT 5 §3.1.3.2.4). */
  readonly expirySeconds?: number;
}

/** The message to publish for `will` at `nowMs`: its Message Expiry Interval runs from now (MQTT 5 §3.1.3.2.4). */
export function willMessage(will: Will, nowMs: number): Message {
  return will.expirySeconds === undefined ? will.message : { ...will.message, expiresAtMs: nowMs + will.expirySeconds * 1000 };
}

import type { Message } from '../backend/message.js';

/** A Will Message with its delay, taken from CONNECT. */
export interface Will {
  readonly message: Message;
  /** Will Delay Interval in seconds (MQTT 5); 0 publishes at once. */
  readonly delaySeconds: number;
  /** Message Expiry Interval in seconds (MQTT 5): it starts when the will is published (MQTT 5 §3.1.3.2.4). */
  readonly expirySeconds?: number;
}

// Persistent-session reconnect replay: a client with a persistent session (clean=false) subscribes at QoS 1
// and disconnects; a publisher then sends `messages` QoS 1 messages to its topic (each PUBACKed); the client
// reconnects and the benchmark times how long the queued messages take to arrive. It reports what arrived and
// never waits for ever: the wait ends when all arrived, after `stallMs` without a new one, or after 60 s.
import { performance } from 'node:perf_hooks';
import { drainUntil } from './flow.js';
import { Publisher } from './publisher.js';
import { RawMqttClient } from './raw-mqtt.js';
import type { Delivery } from './raw-mqtt.js';
import { round } from './samples.js';
import type { Endpoint, Target } from './targets.js';

export interface ReplayOptions {
  readonly messages: number;
  readonly clientId: string;
  readonly topic: string;
  readonly payloadBytes: number;
  readonly window: number;
  /** The wait ends after this long without a new message. */
  readonly stallMs: number;
}

export interface ReplayResult {
  messages: number;
  /** PUBACKed by the system while the subscriber was offline. */
  acked: number;
  /** CONNACK of the reconnect said the session was present. */
  sessionPresent: boolean;
  /** Distinct queued messages received after the reconnect. */
  received: number;
  duplicates: number;
  /** From the reconnect's CONNECT to the last message received (or the end of the wait). */
  seconds: number;
  messagesPerSecond: number;
  endedBy: 'complete' | 'stall' | 'timeout';
  /** From the reconnect to the first message. */
  firstMessageMs: number | undefined;
  error?: string;
}

const connect = (endpoint: Endpoint, clientId: string, clean: boolean, onDelivery?: (d: Delivery) => void): Promise<RawMqttClient> =>
  RawMqttClient.connect({ host: endpoint.host, port: endpoint.port, clientId, protocolVersion: 4, clean, keepaliveSeconds: 60, connectTimeoutMs: 20_000, ...(onDelivery === undefined ? {} : { onDelivery }) });

async function publishAll(endpoint: Endpoint, options: ReplayOptions): Promise<number> {
  const client = await connect(endpoint, `${options.clientId}-pub`, true);
  try {
    const publisher: Publisher = new Publisher(client, { topic: options.topic, qos: 1, payloadBytes: options.payloadBytes, window: options.window, credit: () => options.messages - publisher.sent });
    const done = new Promise<void>((resolve) => {
      publisher.onAcked = () => {
        if (publisher.acked >= options.messages) resolve();
      };
    });
    publisher.start();
    const limit = new Promise<void>((resolve) => setTimeout(resolve, 60_000).unref());
    await Promise.race([done, limit, client.closed]);
    await publisher.stop(1_000);
    return publisher.acked;
  } finally {
    await client.close();
  }
}

export async function replay(target: Target, options: ReplayOptions): Promise<ReplayResult> {
  const result: ReplayResult = { messages: options.messages, acked: 0, sessionPresent: false, received: 0, duplicates: 0, seconds: 0, messagesPerSecond: 0, endedBy: 'stall', firstMessageMs: undefined };
  try {
    // Start from no session, then create the persistent one with its QoS 1 subscription.
    await (await connect(target.subscribeTo, options.clientId, true)).close();
    const first = await connect(target.subscribeTo, options.clientId, false);
    await first.subscribe([{ topic: options.topic, qos: 1 }], 20_000);
    await first.close();
    result.acked = await publishAll(target.publishTo, options);

    const seen = new Uint8Array(options.messages);
    const started = performance.now();
    let last = started;
    // The handler is in place before the CONNECT: queued messages may come in the same read as the CONNACK.
    const client = await connect(target.subscribeTo, options.clientId, false, (d) => {
      if (d.seq < 0 || d.seq >= options.messages) return;
      last = performance.now();
      result.firstMessageMs ??= round(last - started, 1);
      if (seen[d.seq] === 1) result.duplicates++;
      else {
        seen[d.seq] = 1;
        result.received++;
      }
    });
    result.sessionPresent = client.sessionPresent;
    const drain = await drainUntil(() => result.received >= result.acked, () => result.received + result.duplicates, 60_000, options.stallMs);
    result.endedBy = drain.endedBy;
    result.seconds = round(((result.received > 0 ? last : performance.now()) - started) / 1000, 3);
    result.messagesPerSecond = result.seconds > 0 ? round(result.received / result.seconds, 0) : 0;
    if (client.error !== undefined) result.error = client.error.message;
    // Leave no session behind: a clean connect discards it.
    await client.close();
    await (await connect(target.subscribeTo, options.clientId, true)).close();
  } catch (err: unknown) {
    result.error = err instanceof Error ? err.message : String(err);
  }
  return result;
}

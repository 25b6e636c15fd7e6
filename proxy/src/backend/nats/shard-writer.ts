// What a publish writes to its shard's connection: a QoS 0 message on the live subject (nats-wire.ts), a QoS 1/2
// message into SHOAL_MSGS through the connection's StoredPublisher (PUBACK waits for its acknowledgement), a
// retained message into SHOAL_RETAINED besides. One NatsWire and one StoredPublisher per shard connection, made on
// first use; the `Shoal-Origin` lines of the publishing sessions are encoded once (OriginLines).
import type { NatsConnection } from '@nats-io/transport-node';
import type { Clock } from '../../clock.js';
import type { Message } from '../message.js';
import { headerBlockText, OriginLines } from './header-block.js';
import { encodeMessage } from './message-headers.js';
import { liveSubject, MESSAGES_STREAM, storedSubject } from './nats-names.js';
import { NatsWire } from './nats-wire.js';
import { writeRetained } from './retained.js';
import type { ShardLink } from './shard-pool.js';
import { StoredPublisher } from './stored-publisher.js';

export class ShardWriter {
  /** QoS ≥ 1 publishing per shard connection (one ack subscription each). */
  private readonly publishers = new WeakMap<NatsConnection, StoredPublisher>();
  /** Encoded `Shoal-Origin` lines of the publishing sessions. */
  private readonly origins = new OriginLines();
  /** Frames written per shard connection. */
  private readonly wires = new WeakMap<NatsConnection, NatsWire>();

  constructor(
    private readonly clock: Clock,
    private readonly publishTimeoutMs: number,
  ) {}

  /**
   * Writes the message (`subject`: its topic's subject) to the shard; the promise (none for a plain QoS 0
   * message) settles when it is stored. Throws when the connection refuses the frame.
   */
  write(link: ShardLink, subject: string, message: Message, messageId?: string): Promise<unknown> | undefined {
    let stored: Promise<unknown> | undefined;
    if (message.qos === 0) {
      this.wireFor(link.nc).publish(liveSubject(subject), message.payload, headerBlockText(message, undefined, this.origins));
    } else {
      // The stream is checked on the acknowledgement rather than with `Nats-Expected-Stream`, a header
      // every subscriber would receive with the re-published message.
      const block = headerBlockText(message, messageId, this.origins);
      if (block === undefined) throw new Error('a stored message carries its QoS header');
      stored = this.publisherFor(link.nc).publish(storedSubject(subject), message.payload, block);
    }
    if (!message.retain) return stored;
    // [MQTT-3.3.1-5] store, [MQTT-3.3.1-6]/[MQTT-3.3.1-7] an empty payload deletes; QoS 0 included.
    // Own headers: js.publish adds its headers to the object it is given.
    const remove = message.payload.length === 0;
    const nowMs = (): number => this.clock.now();
    const deadlineMs = nowMs() + this.publishTimeoutMs;
    const retained = writeRetained(link, { subject, encoded: encodeMessage(message), remove, deadlineMs, nowMs });
    return stored === undefined ? retained : Promise.all([stored, retained]);
  }

  private wireFor(nc: NatsConnection): NatsWire {
    let wire = this.wires.get(nc);
    if (wire === undefined) {
      wire = new NatsWire(nc);
      this.wires.set(nc, wire);
    }
    return wire;
  }

  private publisherFor(nc: NatsConnection): StoredPublisher {
    let publisher = this.publishers.get(nc);
    if (publisher === undefined || publisher.closed) {
      publisher = new StoredPublisher({ nc, stream: MESSAGES_STREAM, timeoutMs: this.publishTimeoutMs, wire: this.wireFor(nc) });
      this.publishers.set(nc, publisher);
    }
    return publisher;
  }
}

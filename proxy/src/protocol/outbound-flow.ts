import type { ForwardedProperties, QoS } from '../backend/message.js';
import type { Clock } from '../clock.js';
import type { InflightRecord } from '../sessions/session-store.js';
import { PacketIdAllocator } from './packet-id-allocator.js';

/** A message ready for one subscriber: QoS, retain flag and subscription identifiers already decided. */
export interface OutboundMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties?: ForwardedProperties;
  readonly subscriptionIds?: readonly number[];
  readonly expiresAtMs?: number;
  /** The stored message this is (shard and SHOAL_MSGS sequence): the session's offline cursor follows its settlement. */
  readonly origin?: MessageOrigin;
}

/** Where a stored message came from. */
export interface MessageOrigin {
  readonly shardId: string;
  readonly sequence: number;
}

/** What the transport did with a packet handed to it. */
export type SendResult = 'sent' | 'backpressured' | 'too-large' | 'closed';

/** The side of a connection the flow writes to. */
export interface OutboundSender {
  /** Sends a PUBLISH; `messageExpiryInterval` is the remaining lifetime in seconds, when the message expires. */
  publish(message: OutboundMessage, packetId: number | undefined, dup: boolean, messageExpiryInterval?: number): SendResult;
  pubrel(packetId: number): SendResult;
  /** False while the socket's buffer is above its high-water mark. */
  readonly writable: boolean;
}

/** Why a message was not delivered, for metrics. */
export type DropReason = 'queue_full' | 'expired' | 'too_large';

export interface OutboundFlowOptions {
  /** Largest number of unacknowledged QoS 1/2 messages this server allows itself per session. */
  readonly inflightMax: number;
  /** Messages kept waiting beyond the window; QoS 0 is dropped first when it is full. */
  readonly queueMax: number;
  readonly clock: Clock;
  readonly onDrop: (reason: DropReason, qos: QoS) => void;
  /**
   * A QoS 1/2 message with an origin is done with: acknowledged (PUBACK, PUBREC), or dropped for good. Not called
   * for what is still unacknowledged when the flow is stored with its session.
   */
  readonly onSettled?: (origin: MessageOrigin) => void;
}

/**
 * Outbound delivery for one session: the in-flight window of QoS 1/2 messages (MQTT 5 Receive Maximum,
 * [MQTT-3.3.4-7]), a bounded queue behind it, packet identifiers, and the PUBACK / PUBREC / PUBREL / PUBCOMP
 * state machine. It survives a reconnect of a persistent session: on `attach`, unacknowledged messages are sent
 * again with DUP set [MQTT-4.4.0-1].
 */
export class OutboundFlow {
  private readonly ids = new PacketIdAllocator();
  /**
   * The unacknowledged messages by packet identifier. Made when the first QoS 1/2 message goes out (or is
   * restored): an idle session holds none. The message itself is the entry: no object per delivery.
   */
  private inflightMap: Map<number, OutboundMessage> | undefined;
  /** QoS 2 only: the identifiers whose PUBREC arrived and PUBREL went out, waiting for PUBCOMP. */
  private released: Set<number> | undefined;
  private readonly queue: OutboundMessage[] = [];
  private sender: OutboundSender | undefined;
  private inflightMax: number;
  /** Waiters for room in the queue (see `whenRoom`). */
  private roomWaiters: (() => void)[] | undefined;

  constructor(private readonly options: OutboundFlowOptions) {
    this.inflightMax = options.inflightMax;
  }

  private get inflight(): Map<number, OutboundMessage> {
    return (this.inflightMap ??= new Map());
  }

  /** Connects the flow to a live connection (with the client's Receive Maximum) and re-sends what is unacknowledged. */
  attach(sender: OutboundSender, inflightMax: number): void {
    this.sender = sender;
    this.inflightMax = Math.min(inflightMax, this.options.inflightMax);
    for (const [packetId, message] of this.inflightMap ?? []) {
      if (this.released?.has(packetId) === true) sender.pubrel(packetId);
      // [MQTT-3.1.2-28] a re-send above the client's (new) Maximum Packet Size is discarded as if it were completed
      else if (!this.sendPublish(message, packetId, true)) {
        this.inflight.delete(packetId);
        this.ids.release(packetId);
        this.settle(message);
      }
    }
    this.pump();
  }

  /** Disconnects the flow; QoS 0 messages waiting in the queue are dropped (they are never stored for a session). */
  detach(): void {
    this.sender = undefined;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]?.qos === 0) this.queue.splice(i, 1);
    }
    this.wakeRoomWaiters();
  }

  /**
   * Resolves once the queue is at most half full, or the flow is detached: a producer that may fill it (offline
   * replay) waits here instead of making the queue drop what it owes.
   */
  whenRoom(): Promise<void> {
    if (this.hasRoom()) return Promise.resolve();
    return new Promise((resolve) => (this.roomWaiters ??= []).push(resolve));
  }

  /** Queues or sends a message. */
  push(message: OutboundMessage): void {
    if (this.queue.length === 0 && this.trySend(message)) return;
    if (this.queue.length >= this.options.queueMax && !this.evictFor(message)) return;
    this.queue.push(message);
  }

  /** Sends what the window and the socket allow; call when the socket drains or an ack frees a slot. */
  pump(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (next === undefined || !this.trySend(next)) break;
      this.queue.shift();
    }
    if (this.roomWaiters !== undefined && this.hasRoom()) this.wakeRoomWaiters();
  }

  /** PUBACK for a QoS 1 message; false when the identifier is unknown. */
  acknowledge(packetId: number): boolean {
    if (this.inflightMap?.get(packetId)?.qos !== 1) return false;
    this.complete(packetId);
    return true;
  }

  /** PUBREC for a QoS 2 message: sends PUBREL [MQTT-4.3.3-4]; a PUBREC with an error code ends the flow. */
  received(packetId: number, failed: boolean): boolean {
    const message = this.inflightMap?.get(packetId);
    if (message?.qos !== 2) return false;
    if (failed) {
      this.complete(packetId);
      return true;
    }
    const released = (this.released ??= new Set());
    if (!released.has(packetId)) this.settle(message); // delivered: what remains is the PUBREL/PUBCOMP exchange
    released.add(packetId);
    this.sender?.pubrel(packetId);
    return true;
  }

  /** PUBCOMP for a QoS 2 message. */
  completed(packetId: number): boolean {
    if (this.released?.has(packetId) !== true) return false;
    this.complete(packetId);
    return true;
  }

  /** The unacknowledged messages, for storing a session between connections. */
  snapshot(): InflightRecord[] {
    return [...(this.inflightMap ?? [])].map(([packetId, message]) => ({ packetId, message, released: this.released?.has(packetId) === true }));
  }

  /** Takes back stored unacknowledged messages; they are sent again on `attach`. */
  restore(records: readonly InflightRecord[]): void {
    for (const record of records) {
      this.ids.reserve(record.packetId);
      this.inflight.set(record.packetId, record.message);
      if (record.released) (this.released ??= new Set()).add(record.packetId);
    }
  }

  get inflightCount(): number {
    return this.inflightMap?.size ?? 0;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  private complete(packetId: number): void {
    const message = this.inflight.get(packetId);
    this.inflight.delete(packetId);
    const wasReleased = this.released?.delete(packetId) === true;
    this.ids.release(packetId);
    if (message !== undefined && !wasReleased) this.settle(message);
    this.pump();
  }

  private settle(message: OutboundMessage): void {
    if (message.origin !== undefined && message.qos > 0) this.options.onSettled?.(message.origin);
  }

  private hasRoom(): boolean {
    return this.sender === undefined || this.queue.length <= this.options.queueMax / 2;
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters ?? [];
    this.roomWaiters = undefined;
    for (const wake of waiters) wake();
  }

  /** Sends now if possible; true when the message left the queue (sent, or dropped for good). */
  private trySend(message: OutboundMessage): boolean {
    const sender = this.sender;
    if (sender === undefined || !sender.writable) return false;
    if (message.qos === 0) {
      this.sendPublish(message, undefined, false);
      return true;
    }
    if (this.inflightCount >= this.inflightMax) return false;
    const packetId = this.ids.allocate();
    if (packetId === undefined) return false;
    if (this.sendPublish(message, packetId, false)) {
      this.inflight.set(packetId, message);
    } else {
      this.ids.release(packetId);
      this.settle(message);
    }
    return true;
  }

  /** Writes a PUBLISH; false when the message was dropped (expired, too large for the client). */
  private sendPublish(message: OutboundMessage, packetId: number | undefined, dup: boolean): boolean {
    let remainingSeconds: number | undefined;
    if (message.expiresAtMs !== undefined) {
      const remainingMs = message.expiresAtMs - this.options.clock.now();
      // [MQTT-3.3.2-5] an expired message is not delivered; the interval sent is what remains [MQTT-3.3.2-6]
      if (remainingMs <= 0 && !dup) {
        this.options.onDrop('expired', message.qos);
        return false;
      }
      remainingSeconds = Math.max(1, Math.ceil(remainingMs / 1000));
    }
    const result = this.sender?.publish(message, packetId, dup, remainingSeconds) ?? 'closed';
    if (result === 'too-large') {
      // [MQTT-3.1.2-25] a packet above the client's Maximum Packet Size is discarded, as if delivered
      this.options.onDrop('too_large', message.qos);
      return false;
    }
    return true;
  }

  /** Makes room in a full queue; false when the new message itself is the one dropped. */
  private evictFor(message: OutboundMessage): boolean {
    const victim = this.queue.findIndex((queued) => queued.qos === 0);
    if (victim >= 0) {
      const [dropped] = this.queue.splice(victim, 1);
      this.options.onDrop('queue_full', dropped?.qos ?? 0);
      return true;
    }
    this.options.onDrop('queue_full', message.qos);
    this.settle(message);
    return false;
  }
}

import { topicMatchesFilter } from '../protocol/topics.js';
import type { DeliveredMessage, Message } from './message.js';
import {
  interestId,
  type DeliveryHandler,
  type InterestKey,
  type MessageBackend,
  type PublishOptions,
  type StoredBatch,
  type StoredReadRequest,
} from './message-backend.js';

/** The one shard of the memory backend. */
export const MEMORY_SHARD = 'memory';

interface MemoryInterest {
  readonly key: InterestKey;
  readonly handler: DeliveryHandler;
}

/**
 * A MessageBackend in this process's memory, with the same contract as the NATS one: one shard ("memory"),
 * a sequence per stored message, de-duplication by message id, retained messages, `$` topics hidden from
 * leading wildcards. Shared groups are delivered to the one interest of the group this process holds.
 * For unit tests of the protocol and for a single proxy without NATS.
 */
export class MemoryBackend implements MessageBackend {
  private readonly interests = new Map<string, MemoryInterest>();
  private readonly retained = new Map<string, Message>();
  private readonly seenIds = new Set<string>();
  private sequence = 0;
  /** Every message stored (QoS ≥ 1) and not yet removed by `dropStoredThrough`, in order. */
  readonly stored: DeliveredMessage[] = [];
  /** Sequence of the first message `stored` may hold (what retention kept). */
  private firstSequence = 1;
  /** When set, publishes reject with this error (a shard outage). */
  failure: Error | undefined;

  publish(message: Message, options?: PublishOptions): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (message.retain) {
      if (message.payload.length === 0) this.retained.delete(message.topic);
      else this.retained.set(message.topic, message);
    }
    let delivered: DeliveredMessage = { ...message, shardId: MEMORY_SHARD };
    if (message.qos > 0) {
      const id = options?.messageId;
      if (id !== undefined && this.seenIds.has(id)) return Promise.resolve();
      if (id !== undefined) this.seenIds.add(id);
      delivered = { ...delivered, sequence: ++this.sequence };
      this.stored.push(delivered);
    }
    for (const interest of this.interests.values()) {
      if (matches(message.topic, interest.key.filter)) interest.handler(delivered);
    }
    return Promise.resolve();
  }

  addInterest(key: InterestKey, handler: DeliveryHandler): Promise<void> {
    this.interests.set(interestId(key), { key, handler });
    return Promise.resolve();
  }

  removeInterest(key: InterestKey): void {
    this.interests.delete(interestId(key));
  }

  readRetained(filter: string): Promise<readonly Message[]> {
    return Promise.resolve([...this.retained.values()].filter((m) => matches(m.topic, filter)));
  }

  readStored(request: StoredReadRequest): Promise<StoredBatch> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const after = this.stored.filter(
      (m) => (m.sequence ?? 0) > request.afterSequence && request.filters.some((filter) => matches(m.topic, filter)),
    );
    const messages = after.slice(0, request.limit);
    const end = messages.length === after.length;
    const readThrough = end ? Math.max(request.afterSequence, this.sequence) : (messages.at(-1)?.sequence ?? request.afterSequence);
    return Promise.resolve({ messages, readThrough, end });
  }

  firstStoredSequence(_shardId?: string): Promise<number> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return Promise.resolve(this.firstSequence);
  }

  storedShards(_filters?: readonly string[]): readonly string[] {
    return [MEMORY_SHARD];
  }

  sequenceFloor(_shardId?: string): Promise<number> {
    return Promise.resolve(this.sequence);
  }

  deliveredThrough(_shardId?: string): number | undefined {
    return this.sequence === 0 ? undefined : this.sequence;
  }

  /** Retention: removes the stored messages up to `sequence`. */
  dropStoredThrough(sequence: number): void {
    this.firstSequence = Math.max(this.firstSequence, sequence + 1);
    const kept = this.stored.filter((m) => (m.sequence ?? 0) > sequence);
    this.stored.splice(0, this.stored.length, ...kept);
  }

  isReady(): boolean {
    return true;
  }

  get interestCount(): number {
    return this.interests.size;
  }

  close(): Promise<void> {
    this.interests.clear();
    return Promise.resolve();
  }
}

function matches(topic: string, filter: string): boolean {
  return topicMatchesFilter(topic, filter);
}

import {
  interestId,
  type InterestKey,
  type MessageBackend,
  type PublishOptions,
  type StoredBatch,
  type StoredReadRequest,
} from '../backend/message-backend.js';
import type { DeliveredMessage, Message } from '../backend/message.js';
import type { LocalSubscriber, MessageRouter } from '../protocol/ports.js';

/** The local subscribers of one interest and, for a shared group, whose turn is next. */
interface Interest {
  readonly key: InterestKey;
  readonly members: LocalSubscriber[];
  next: number;
  /** Settles once the shards registered the interest. */
  ready: Promise<void>;
}


/**
 * Joins the connections of this proxy to the backend: it reference-counts interests so the shards see one
 * subscription per distinct filter (and share group) however many local sessions hold it, and fans each
 * message out to the local subscribers — to all of them, or for a shared subscription to one, in turn.
 */
export class Broker implements MessageRouter {
  private readonly interests = new Map<string, Interest>();

  constructor(private readonly backend: MessageBackend) {}

  publish(message: Message, options?: PublishOptions): Promise<void> {
    return this.backend.publish(message, options);
  }

  attach(subscriber: LocalSubscriber): Promise<void> {
    const id = interestId(subscriber.key);
    let interest = this.interests.get(id);
    if (interest === undefined) {
      const created: Interest = { key: subscriber.key, members: [], next: 0, ready: Promise.resolve() };
      interest = created;
      this.interests.set(id, created);
      created.ready = this.backend.addInterest(subscriber.key, (message) => this.dispatch(created, message));
    }
    interest.members.push(subscriber);
    return interest.ready;
  }

  detach(subscriber: LocalSubscriber): void {
    const id = interestId(subscriber.key);
    const interest = this.interests.get(id);
    if (interest === undefined) return;
    const index = interest.members.indexOf(subscriber);
    if (index < 0) return;
    interest.members.splice(index, 1);
    if (interest.members.length === 0) {
      this.interests.delete(id);
      this.backend.removeInterest(interest.key);
    }
  }

  readRetained(filter: string): Promise<readonly Message[]> {
    return this.backend.readRetained(filter);
  }

  readStored(request: StoredReadRequest): Promise<StoredBatch> {
    return this.backend.readStored(request);
  }

  firstStoredSequence(shardId: string): Promise<number> {
    return this.backend.firstStoredSequence(shardId);
  }

  storedShards(filters: readonly string[]): readonly string[] {
    return this.backend.storedShards(filters);
  }

  sequenceFloor(shardId: string): Promise<number> {
    return this.backend.sequenceFloor(shardId);
  }

  deliveredThrough(shardId: string): number | undefined {
    return this.backend.deliveredThrough(shardId);
  }

  /** Distinct interests held on the shards. */
  get interestCount(): number {
    return this.interests.size;
  }

  private dispatch(interest: Interest, message: DeliveredMessage): void {
    const { members } = interest;
    if (members.length === 0) return;
    if (interest.key.shareGroup !== undefined) {
      interest.next = (interest.next + 1) % members.length;
      members[interest.next]?.deliver(message);
      return;
    }
    for (const member of members) member.deliver(message);
  }
}

// A MessageBackend for protocol tests whose stores (QoS ≥ 1 publishes) wait until the test settles them, one by
// one and in any order: to show that acknowledgements wait for the store, keep PUBLISH order, and count toward
// the Receive Maximum. Everything else (QoS 0, interests, retained messages) goes straight to a MemoryBackend.
import type { MemoryBackend } from '../backend/memory-backend.js';
import type {
  DeliveryHandler,
  InterestKey,
  MessageBackend,
  PublishOptions,
  StoredBatch,
  StoredReadRequest,
} from '../backend/message-backend.js';
import type { Message } from '../backend/message.js';
import { BackendUnavailableError } from '../errors.js';

/** One store the proxy asked for, waiting for the test. */
export interface PendingStore {
  readonly message: Message;
  readonly options: PublishOptions | undefined;
  /** Stores the message in the memory backend (which delivers it) and resolves the proxy's publish. */
  succeed(): void;
  /** Rejects the proxy's publish as an unreachable shard would (BackendUnavailableError). */
  fail(): void;
}

export class GatedBackend implements MessageBackend {
  private readonly waiting: PendingStore[] = [];
  private readonly takers: { count: number; resolve: (stores: PendingStore[]) => void }[] = [];

  constructor(private readonly memory: MemoryBackend) {}

  publish(message: Message, options?: PublishOptions): Promise<void> {
    if (message.qos === 0) return this.memory.publish(message, options);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({
        message,
        options,
        succeed: () => {
          this.memory.publish(message, options).then(resolve, reject);
        },
        fail: () => reject(new BackendUnavailableError('gated', 'store failed')),
      });
      this.hand();
    });
  }

  /** Waits until `count` stores are waiting and takes them, oldest first. */
  take(count: number): Promise<PendingStore[]> {
    return new Promise((resolve) => {
      this.takers.push({ count, resolve });
      this.hand();
    });
  }

  /** Stores waiting and not yet taken. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  addInterest(key: InterestKey, handler: DeliveryHandler): Promise<void> {
    return this.memory.addInterest(key, handler);
  }

  removeInterest(key: InterestKey): void {
    this.memory.removeInterest(key);
  }

  readRetained(filter: string): Promise<readonly Message[]> {
    return this.memory.readRetained(filter);
  }

  readStored(request: StoredReadRequest): Promise<StoredBatch> {
    return this.memory.readStored(request);
  }

  firstStoredSequence(shardId: string): Promise<number> {
    return this.memory.firstStoredSequence(shardId);
  }

  storedShards(filters: readonly string[]): readonly string[] {
    return this.memory.storedShards(filters);
  }

  sequenceFloor(shardId: string): Promise<number> {
    return this.memory.sequenceFloor(shardId);
  }

  deliveredThrough(shardId: string): number | undefined {
    return this.memory.deliveredThrough(shardId);
  }

  isReady(): boolean {
    return this.memory.isReady();
  }

  close(): Promise<void> {
    for (const store of this.waiting.splice(0)) store.fail();
    return this.memory.close();
  }

  private hand(): void {
    const taker = this.takers[0];
    if (taker === undefined || this.waiting.length < taker.count) return;
    this.takers.shift();
    taker.resolve(this.waiting.splice(0, taker.count));
  }
}

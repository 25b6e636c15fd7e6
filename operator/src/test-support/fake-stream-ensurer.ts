// A StreamEnsurer for unit tests: records every call; shards listed in `failing` reject.
import { StreamsNotReadyError, type ShardEndpoint, type StreamEnsurer, type StreamSettings } from '../controller/stream-ensurer.js';

export class FakeStreamEnsurer implements StreamEnsurer {
  readonly calls: { readonly shard: ShardEndpoint; readonly settings: StreamSettings }[] = [];
  /** Shard ids whose ensure fails (as an unreachable nats-server would). */
  readonly failing = new Set<string>();

  ensure(shard: ShardEndpoint, settings: StreamSettings): Promise<void> {
    this.calls.push({ shard: { id: shard.id, urls: [...shard.urls] }, settings: { ...settings } });
    if (this.failing.has(shard.id)) return Promise.reject(new StreamsNotReadyError(shard.id, `cannot ensure the streams on ${shard.id}: connection refused`));
    return Promise.resolve();
  }

  /** Ids of the shards ensured so far, in call order. */
  get ensured(): string[] {
    return this.calls.map((c) => c.shard.id);
  }
}

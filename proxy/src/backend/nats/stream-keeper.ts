// Ensures SHOAL_MSGS and SHOAL_RETAINED on each shard as it connects, retrying until it works, and knows which
// shards have them (a proxy that ensures streams is ready only then).
import type { NatsLog, ShardLink } from './shard-pool.js';
import { ensureStreams, type StreamOptions } from './streams.js';

export interface StreamKeeperDeps {
  readonly streams: StreamOptions;
  /** The shard's current connection, if any. */
  link(shardId: string): ShardLink | undefined;
  /** Whether the shard is connected now. */
  connected(shardId: string): boolean;
  /** Called when a shard's streams are known to exist. */
  onReady(): void;
  readonly log: NatsLog;
  readonly proxyId: string;
  readonly retryMs: number;
}

export class StreamKeeper {
  private readonly ready = new Set<string>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly deps: StreamKeeperDeps) {}

  isReady(shardId: string): boolean {
    return this.ready.has(shardId);
  }

  /** The shard's connection is gone: its streams are checked again on the next one. */
  shardClosed(shardId: string): void {
    this.ready.delete(shardId);
  }

  /** Ensures the streams on a shard that connected. */
  ensure(shardId: string): void {
    const link = this.deps.link(shardId);
    if (link === undefined || this.retries.has(shardId) || this.closed) return;
    link
      .jsm()
      .then((jsm) => ensureStreams(jsm, this.deps.streams))
      .then(() => {
        if (this.closed || this.deps.link(shardId) !== link) return;
        this.ready.add(shardId);
        this.deps.onReady();
      })
      .catch((error: unknown) => {
        if (this.closed || this.deps.link(shardId) !== link) return;
        this.deps.log.warn({ err: error, shardId, proxyId: this.deps.proxyId }, 'cannot ensure streams on shard; retrying');
        const timer = setTimeout(() => {
          this.retries.delete(shardId);
          if (this.deps.connected(shardId)) this.ensure(shardId);
        }, this.deps.retryMs);
        this.retries.set(shardId, timer);
      });
  }

  close(): void {
    this.closed = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
  }
}

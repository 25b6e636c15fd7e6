// The operator's view of a shard's JetStream streams: an injected StreamEnsurer creates or updates
// SHOAL_MSGS and SHOAL_RETAINED on one shard (main.ts wires in the NATS implementation, the unit tests a
// fake). Where a shard is dialled: its in-cluster DNS names, or a development override.

/** One shard to dial: its ring id and the client URLs of its servers. */
export interface ShardEndpoint {
  readonly id: string;
  readonly urls: readonly string[];
}

/** The streams' settings, from the spec (`retention`, `shards.replicas`). */
export interface StreamSettings {
  /** SHOAL_MSGS: the oldest message kept. */
  readonly maxAgeSeconds: number;
  /** SHOAL_MSGS: bytes kept on the shard. */
  readonly maxBytes: number;
  /** 1, or 3 for a clustered shard. */
  readonly replicas: number;
}

/** Creates or updates the streams on a shard; idempotent, safe under races. Rejects when it cannot. */
export interface StreamEnsurer {
  ensure(shard: ShardEndpoint, settings: StreamSettings): Promise<void>;
}

/** The streams of a shard could not be ensured (unreachable, JetStream refused, timed out). */
export class StreamsNotReadyError extends Error {
  constructor(
    readonly shardId: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StreamsNotReadyError';
  }
}

/** Key of SHOAL_SHARD_URL_OVERRIDES: `<namespace>/<cluster>/<shardId>`. */
export const shardOverrideKey = (namespace: string, cluster: string, shardId: string): string => `${namespace}/${cluster}/${shardId}`;

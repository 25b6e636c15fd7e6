// Exactly one NATS connection per shard of the ring. A shard that cannot be reached at start is retried
// with jittered exponential backoff; once connected, the NATS client reconnects by itself, forever. The
// pool reports each shard's state to listeners (readiness, metrics, the backend re-subscribing).
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import {
  connect as natsConnect,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { ShardSpec } from '../../routing/ring-document.js';
import type { RoutingTable } from '../../routing/routing-table.js';
import { connectionName } from './nats-names.js';

/** The subset of a pino logger the NATS backend writes to. */
export interface NatsLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * `connecting`: no connection yet (first attempt or retrying); `connected`; `reconnecting`: the
 * connection was lost and the client is re-establishing it; `closed`: the shard left the ring or the
 * pool was closed.
 */
export type ShardState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ShardStateChange {
  readonly shardId: string;
  readonly state: ShardState;
  readonly previous: ShardState;
}

export type ShardStateListener = (change: ShardStateChange) => void;

/** A shard's connection and the JetStream clients made from it. */
export interface ShardLink {
  readonly shard: ShardSpec;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  /** The JetStream manager on the same connection, made on first use. */
  jsm(): Promise<JetStreamManager>;
}

export interface ShardPoolOptions {
  readonly proxyId: string;
  readonly log: NatsLog;
  /** Opens a connection; the NATS Node transport when absent (tests may wrap it). */
  readonly connect?: (options: NodeConnectionOptions) => Promise<NatsConnection>;
  /** Time to establish one connection. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** NATS client wait between reconnect attempts, plus up to `reconnectJitterMs`. Defaults 1 s, 1 s. */
  readonly reconnectTimeWaitMs?: number;
  readonly reconnectJitterMs?: number;
  /** Upper bound of the first-connection retry backoff. Default 30 s. */
  readonly maxRetryDelayMs?: number;
  /** Client PINGs; a shard that answers none of `maxPingOut` is reconnected. Defaults 10 s, 3. */
  readonly pingIntervalMs?: number;
  readonly maxPingOut?: number;
  /** JetStream API timeout (stream management, direct gets). Default 5 s. */
  readonly apiTimeoutMs?: number;
  /** Source of randomness for jitter; Math.random when absent. */
  readonly random?: () => number;
}

class ShardEntry {
  /** `closed` until open() announces it: a shard new to the pool goes from `closed` to `connecting`. */
  state: ShardState = 'closed';
  link: ShardLink | undefined;
  closing = false;
  attempt = 0;
  retryTimer: NodeJS.Timeout | undefined;
  /** The connection attempt in flight, awaited by close(). */
  pending: Promise<void> | undefined;

  constructor(readonly shard: ShardSpec) {}
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((url, i) => url === b[i]);
}

/** One connection per shard; `applyRing` keeps the set equal to the routing table's shards. */
export class ShardPool {
  private readonly entries = new Map<string, ShardEntry>();
  private readonly listeners = new Set<ShardStateListener>();
  private closed = false;

  constructor(private readonly options: ShardPoolOptions) {}

  /** Connects shards new to the table and closes those it no longer names (resolves once they closed). */
  async applyRing(table: Pick<RoutingTable, 'allShards'>): Promise<void> {
    if (this.closed) throw new Error('shard pool is closed');
    const wanted = new Map(table.allShards().map((shard) => [shard.id, shard]));
    const closing: Promise<void>[] = [];
    for (const [id, entry] of this.entries) {
      const shard = wanted.get(id);
      if (shard === undefined || !sameUrls(shard.urls, entry.shard.urls)) closing.push(this.closeEntry(entry));
    }
    for (const [id, shard] of wanted) {
      if (!this.entries.has(id)) this.open(shard);
    }
    await Promise.all(closing);
  }

  /** Listens to state changes; returns the function that stops listening. */
  onStateChange(listener: ShardStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The state of a shard of the ring, undefined for a shard the pool does not hold. */
  stateOf(shardId: string): ShardState | undefined {
    return this.entries.get(shardId)?.state;
  }

  /** Every shard's state. */
  states(): ReadonlyMap<string, ShardState> {
    return new Map([...this.entries].map(([id, entry]) => [id, entry.state]));
  }

  /** The shard's connection once it was established (also while reconnecting), else undefined. */
  link(shardId: string): ShardLink | undefined {
    return this.entries.get(shardId)?.link;
  }

  /** Closes every connection; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.entries.values()].map((entry) => this.closeEntry(entry)));
  }

  private setState(entry: ShardEntry, state: ShardState): void {
    const previous = entry.state;
    if (previous === state) return;
    entry.state = state;
    const change: ShardStateChange = { shardId: entry.shard.id, state, previous };
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.options.log.error({ err: error, shardId: entry.shard.id }, 'shard state listener failed');
      }
    }
  }

  private open(shard: ShardSpec): void {
    const entry = new ShardEntry(shard);
    this.entries.set(shard.id, entry);
    this.setState(entry, 'connecting');
    this.startAttempt(entry);
  }

  private startAttempt(entry: ShardEntry): void {
    entry.pending = this.attemptConnect(entry).finally(() => (entry.pending = undefined));
  }

  private retryDelay(attempt: number): number {
    const base = this.options.reconnectTimeWaitMs ?? 1_000;
    const max = this.options.maxRetryDelayMs ?? 30_000;
    const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 16));
    return Math.round(ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2));
  }

  private async attemptConnect(entry: ShardEntry): Promise<void> {
    const { shard } = entry;
    const { log } = this.options;
    let nc: NatsConnection;
    try {
      nc = await (this.options.connect ?? natsConnect)({
        servers: shard.urls,
        name: connectionName(this.options.proxyId),
        maxReconnectAttempts: -1,
        reconnectTimeWait: this.options.reconnectTimeWaitMs ?? 1_000,
        reconnectJitter: this.options.reconnectJitterMs ?? 1_000,
        timeout: this.options.connectTimeoutMs ?? 5_000,
        pingInterval: this.options.pingIntervalMs ?? 10_000,
        maxPingOut: this.options.maxPingOut ?? 3,
        // nats.js records an Error (with its stack) per request for async stack traces: 22% of a publishing
        // proxy's CPU at QoS 1 (docs/performance.md). Errors keep their message and code without it.
        noAsyncTraces: true,
      });
    } catch (error) {
      if (entry.closing) return;
      const delayMs = this.retryDelay(entry.attempt++);
      log.warn({ err: error, shardId: shard.id, retryInMs: delayMs }, 'cannot connect to shard; retrying');
      entry.retryTimer = setTimeout(() => {
        entry.retryTimer = undefined;
        this.startAttempt(entry);
      }, delayMs);
      return;
    }
    if (entry.closing) {
      await nc.close().catch(() => undefined);
      return;
    }
    const apiTimeout = this.options.apiTimeoutMs ?? 5_000;
    let jsm: Promise<JetStreamManager> | undefined;
    entry.link = {
      shard,
      nc,
      js: jetstream(nc, { timeout: apiTimeout }),
      jsm: () => (jsm ??= jetstreamManager(nc, { timeout: apiTimeout, checkAPI: false })),
    };
    entry.attempt = 0;
    log.info({ shardId: shard.id, server: nc.getServer() }, 'connected to shard');
    void this.watch(entry, nc);
    this.setState(entry, 'connected');
  }

  private async watch(entry: ShardEntry, nc: NatsConnection): Promise<void> {
    const { log } = this.options;
    const shardId = entry.shard.id;
    void nc.closed().then((error) => {
      if (entry.closing || entry.link?.nc !== nc) return;
      // The client gave up (it should not with maxReconnectAttempts -1, but e.g. on auth errors it does).
      log.error({ err: error, shardId }, 'shard connection closed; connecting again');
      entry.link = undefined;
      this.setState(entry, 'connecting');
      this.startAttempt(entry);
    });
    for await (const status of nc.status()) {
      if (entry.closing) return;
      switch (status.type) {
        case 'disconnect':
          log.warn({ shardId, server: status.server }, 'disconnected from shard');
          this.setState(entry, 'reconnecting');
          break;
        case 'reconnecting':
          this.setState(entry, 'reconnecting');
          break;
        case 'reconnect':
          log.info({ shardId, server: status.server }, 'reconnected to shard');
          this.setState(entry, 'connected');
          break;
        case 'staleConnection':
          log.warn({ shardId }, 'shard connection stale');
          break;
        case 'slowConsumer':
          log.warn({ shardId, subject: status.sub.getSubject(), pending: status.pending }, 'slow consumer');
          break;
        case 'error':
          log.warn({ err: status.error, shardId }, 'shard error');
          break;
        default:
          break;
      }
    }
  }

  private async closeEntry(entry: ShardEntry): Promise<void> {
    if (this.entries.get(entry.shard.id) === entry) this.entries.delete(entry.shard.id);
    if (entry.closing) return;
    entry.closing = true;
    clearTimeout(entry.retryTimer);
    const link = entry.link;
    entry.link = undefined;
    this.setState(entry, 'closed');
    if (link !== undefined) await link.nc.close().catch(() => undefined);
    await entry.pending; // an attempt in flight closes what it opened
  }
}

import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ListenerSecurities } from './auth/listener-securities.js';
import type { ListenerSecurity } from './auth/listener-security.js';
import { NatsBackend } from './backend/nats/nats-backend.js';
import type { StreamOptions } from './backend/nats/streams.js';
import { ShardPool } from './backend/nats/shard-pool.js';
import { Broker } from './broker/broker.js';
import { CursorFlusher } from './protocol/cursor-flusher.js';
import { systemClock, type Clock } from './clock.js';
import { createRingSource, type RingSource } from './config/ring-source.js';
import type { ProxyConfig } from './config/schema.js';
import { drainClients } from './drain/client-drain.js';
import { createMessageIds } from './message-ids.js';
import { OpsServer } from './observability/http-server.js';
import { podDeletionCostFor, type PodDeletionCost } from './observability/pod-deletion-cost.js';
import { ProxyMetrics } from './observability/metrics.js';
import { ClientHandler } from './protocol/client-handler.js';
import { ClientRegistry } from './protocol/client-registry.js';
import { ConnectRateLimiter } from './protocol/connect-rate-limit.js';
import { ConnectAdmission } from './protocol/connect-admission.js';
import { ReasonCode } from './protocol/reason-codes.js';
import { Connection, type PeerIdentity } from './protocol/connection.js';
import { PacketDecoder } from './protocol/packet-decoder.js';
import { DeadlineQueue } from './protocol/deadline-queue.js';
import type { Admission, ProxyContext } from './protocol/context.js';
import type { RingDocument } from './routing/ring-document.js';
import { RoutingTable } from './routing/routing-table.js';
import { startListeners, type AcceptStream, type ListenerPorts } from './server/listeners.js';
import { ExpiryPoller } from './sessions/expiry-poller.js';
import { createSessionBackend, memoryBackend, type SessionBackend } from './sessions/session-backend.js';
import type { SessionStore } from './sessions/session-store.js';

/** The ports the proxy bound (useful when the configuration asked for port 0). */
export interface BoundPorts extends ListenerPorts {
  readonly http: number;
}

export interface ProxyDeps {
  readonly config: ProxyConfig;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly sessions?: SessionStore;
}

function streamOptions(config: ProxyConfig): StreamOptions | undefined {
  const nats = config.nats;
  if (!nats.ensureStreams) return undefined;
  return {
    messageMaxAgeSeconds: nats.messageMaxAgeSeconds,
    messageMaxBytes: nats.messageMaxBytes,
    duplicateWindowSeconds: nats.duplicateWindowSeconds,
    replicas: nats.streamReplicas,
  };
}

/**
 * One Shoal proxy: listeners, client connections, the broker over the NATS shards, the ring it follows and its
 * operations endpoint. `start` builds it; `close` drains it (not ready, stop accepting, disconnect every client
 * with 0x8B Server shutting down, close the shards).
 */
export class ShoalProxy {
  readonly metrics = new ProxyMetrics();
  readonly registry = new ClientRegistry();
  private readonly handlers = new Set<ClientHandler>();
  /** The context of each authentication chain's connections, made once (not a copy per connection). */
  private readonly securedContexts = new Map<ListenerSecurity, ProxyContext>();
  private readonly clock: Clock;
  private readonly sessions: SessionBackend;
  private readonly ops: OpsServer;
  private readonly ring: RingSource;
  private readonly listeners: { close(): Promise<void> }[] = [];
  private readonly messageIds = createMessageIds();
  private readonly cursorFlusher: CursorFlusher;
  /** One mqtt-packet parser for every connection (protocol/packet-decoder.ts): less memory per connection. */
  private readonly decoder = new PacketDecoder();
  private backend: NatsBackend | undefined;
  private expiry: ExpiryPoller | undefined;
  private context: ProxyContext | undefined;
  private document: RingDocument | undefined;
  private table: RoutingTable | undefined;
  private transitionTimer: NodeJS.Timeout | undefined;
  private deletionCost: PodDeletionCost | undefined;
  private draining = false;
  private securities: ListenerSecurities | undefined;
  private ports: BoundPorts = { http: 0 };

  private constructor(private readonly deps: ProxyDeps) {
    this.clock = deps.clock ?? systemClock;
    this.sessions = deps.sessions === undefined ? createSessionBackend(deps.config.sessions, this.clock) : memoryBackend(deps.sessions);
    this.sessions.takeover.listen(deps.config.proxyId, (clientId, epoch) => this.registry.takenElsewhere(clientId, epoch));
    this.cursorFlusher = new CursorFlusher(this.sessions.store, deps.config.offline.cursorFlushIntervalMs, deps.log);
    this.ops = new OpsServer({
      host: deps.config.http.host,
      port: deps.config.http.port,
      registry: this.metrics.registry,
      notReadyReason: () => this.notReadyReason(),
    });
    this.ring = createRingSource(deps.config.ring, { log: deps.log, onRing: (ring) => this.applyRing(ring) });
  }

  /** Starts a proxy: operations endpoint first (not ready), then the ring, the shards, the listeners. */
  static async start(deps: ProxyDeps): Promise<ShoalProxy> {
    const proxy = new ShoalProxy(deps);
    proxy.ports = { http: await proxy.ops.listen() };
    const ring = await proxy.loadRing();
    proxy.startBackend(ring);
    await proxy.expiry?.start(); // heartbeat registered before any connection of this life opens a session
    await proxy.startListeners();
    proxy.deletionCost = podDeletionCostFor(deps.config, () => proxy.handlers.size, deps.log);
    proxy.deletionCost?.start();
    const deletionCost = proxy.deletionCost?.description;
    deps.log.info({ ports: proxy.ports, ring: ring.version, ringSource: proxy.ring.description, deletionCost }, 'proxy started');
    return proxy;
  }

  get boundPorts(): BoundPorts {
    return this.ports;
  }

  /** Why the proxy should not receive traffic, or undefined when it is ready. */
  notReadyReason(): string | undefined {
    if (this.draining) return 'draining';
    if (this.table === undefined) return 'no ring loaded';
    if (this.backend?.isReady() !== true) return 'not connected to every shard';
    if (!this.sessions.connected()) return this.sessions.description;
    return undefined;
  }

  /**
   * Drains and stops: not ready (and, after `drain.notReadyDelayMs`, stop accepting), disconnect the clients at
   * `drain.disconnectRatePerSecond` (v5: 0x8B, or 0x9C with the Server Reference), wait for their in-flight
   * stores, fire this proxy's pending wills, close shards and stores.
   */
  async close(): Promise<void> {
    const { drain } = this.deps.config;
    this.draining = true;
    this.deletionCost?.close();
    clearTimeout(this.transitionTimer);
    this.ring.close();
    if (drain.notReadyDelayMs > 0 && this.handlers.size > 0) await new Promise((resolve) => setTimeout(resolve, drain.notReadyDelayMs));
    // stop accepting now; a listener's close settles only once its last connection has ended
    const listenersClosed = Promise.all(this.listeners.map((l) => l.close()));
    const settleMs = this.deps.config.nats.publishTimeoutMs + 1_000;
    const report = await drainClients([...this.handlers], { ...drain, settleMs }, this.clock);
    this.deps.log.info({ ...report }, 'clients drained');
    await listenersClosed;
    this.cursorFlusher.stop();
    this.context?.deadlines.close();
    this.securities?.close();
    if (this.sessions.endsWithProxy) await this.expiry?.fireAll(); // sessions in memory end with the proxy
    await this.expiry?.close();
    await this.backend?.close();
    await this.sessions.close();
    await this.ops.close();
  }

  private async loadRing(): Promise<RingDocument> {
    const { log } = this.deps;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.ring.start();
      } catch (err: unknown) {
        if (this.draining) throw err;
        if (attempt % 10 === 0) log.warn({ err, ringSource: this.ring.description }, 'waiting for a valid ring document');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  private startBackend(ring: RingDocument): void {
    const { config, log } = this.deps;
    const metrics = this.metrics;
    const table = new RoutingTable(ring, this.clock.now());
    const pool = new ShardPool({ proxyId: config.proxyId, log });
    pool.onStateChange(({ shardId, state, previous }) => {
      metrics.shardState(shardId, state === 'connected' ? 'connected' : state === 'closed' ? 'closed' : 'reconnecting');
      if (previous === 'connected' && state === 'reconnecting') metrics.shardDisconnected(shardId);
    });
    const streams = streamOptions(config);
    const backend = new NatsBackend({
      pool,
      table,
      proxyId: config.proxyId,
      publishTimeoutMs: config.nats.publishTimeoutMs,
      log,
      clock: this.clock,
      metrics: {
        publishCompleted: (shard, qos, outcome, seconds) => metrics.shardPublish(shard, qos, outcome, seconds),
      },
      ...(streams === undefined ? {} : { streams }),
    });
    this.backend = backend;
    this.context = {
      proxyId: config.proxyId,
      clock: this.clock,
      limits: config.limits,
      log,
      metrics,
      router: new Broker(backend),
      sessions: this.sessions.store,
      registry: this.registry,
      takeover: this.sessions.takeover,
      offline: config.offline,
      cursorFlusher: this.cursorFlusher,
      deadlines: new DeadlineQueue(),
      admission: () => this.admission(),
      connectAdmission: new ConnectAdmission(config.connectAdmission, metrics),
      nextMessageId: this.messageIds,
      connectRate: new ConnectRateLimiter(config.limits, this.clock),
    };
    const { pollIntervalMs, batchLimit, proxyLivenessMs } = config.expiry;
    const expiry = { store: this.sessions.store, router: this.context.router, clock: this.clock, log, metrics, proxyId: config.proxyId };
    const onTakenForDead = (): void => void Promise.all([...this.handlers].map((h) => h.disconnect(ReasonCode.ServerBusy)));
    this.expiry = new ExpiryPoller({ ...expiry, intervalMs: pollIntervalMs, batchLimit, livenessMs: proxyLivenessMs, onTakenForDead });
    this.useTable(ring, table);
  }

  private admission(): Admission {
    if (this.draining || this.table === undefined) return 'unavailable';
    if (this.handlers.size > this.deps.config.limits.maxConnections) return 'busy';
    return 'accept';
  }

  /** A new ring document (or the end of a transition): switch without dropping connections. */
  private applyRing(ring: RingDocument): void {
    const table = new RoutingTable(ring, this.clock.now());
    this.deps.log.info({ version: ring.version, shards: ring.shards.length, transition: table.inTransition }, 'ring applied');
    this.backend?.applyRing(table).catch((err: unknown) => this.deps.log.error({ err }, 'ring not applied'));
    this.useTable(ring, table);
  }

  /** Records the table in use and, during a transition, rebuilds it when the transition ends. */
  private useTable(ring: RingDocument, table: RoutingTable): void {
    this.document = ring;
    this.table = table;
    this.metrics.ring(table.version);
    clearTimeout(this.transitionTimer);
    if (table.inTransition && table.transitionUntilMs !== undefined) {
      const delayMs = Math.max(0, table.transitionUntilMs - this.clock.now()) + 10;
      this.transitionTimer = setTimeout(() => this.document !== undefined && this.applyRing(this.document), delayMs);
      this.transitionTimer.unref();
    }
  }

  private async startListeners(): Promise<void> {
    const { config, log } = this.deps;
    const accept: AcceptStream = (stream, remote, identity, security) => this.accept(stream, remote, identity, security);
    const started = await startListeners(config, log, this.metrics, accept);
    this.securities = started.securities;
    this.listeners.push(...started.listeners);
    this.ports = { ...this.ports, ...started.ports };
  }

  private accept(stream: Duplex, remoteAddress: string, peerIdentity?: PeerIdentity, security?: ListenerSecurity): void {
    let context = security === undefined ? this.context : this.securedContexts.get(security);
    if (context === undefined && security !== undefined && this.context !== undefined) {
      context = { ...this.context, security };
      this.securedContexts.set(security, context);
    }
    if (context === undefined) {
      stream.destroy();
      return;
    }
    if (peerIdentity !== undefined) this.deps.log.debug({ remote: remoteAddress, peer: peerIdentity }, 'client certificate verified');
    const conn = new Connection(stream, {
      maxPacketSizeBytes: this.deps.config.limits.maxPacketSizeBytes,
      hooks: this.metrics,
      remoteAddress,
      slowReadTimeoutMs: this.deps.config.limits.slowReadTimeoutMs,
      decoder: this.decoder,
      ...(peerIdentity === undefined ? {} : { peerIdentity }),
    });
    const handler = new ClientHandler(conn, context);
    this.handlers.add(handler);
    stream.on('close', () => this.handlers.delete(handler)); // 'close' comes once; `once` would add a wrapper per connection
  }
}

// An in-process proxy for protocol tests: real ClientHandler, Connection, Broker and session store over an
// in-memory backend, with clients talking raw MQTT bytes through `duplexPair()` (no sockets, no NATS).
import { duplexPair, type Duplex } from 'node:stream';
import mqtt, { type Packet } from 'mqtt-packet';
import { MemoryBackend } from '../backend/memory-backend.js';
import type { MessageBackend } from '../backend/message-backend.js';
import { Broker } from '../broker/broker.js';
import type { Clock } from '../clock.js';
import { parseProxyConfig } from '../config/load.js';
import type { ConnectAdmissionConfig, ProxyLimits } from '../config/schema.js';
import { createMessageIds } from '../message-ids.js';
import { silentLogger } from '../observability/logger.js';
import { ClientHandler } from '../protocol/client-handler.js';
import { ClientRegistry } from '../protocol/client-registry.js';
import { ConnectAdmission } from '../protocol/connect-admission.js';
import { Connection } from '../protocol/connection.js';
import type { Admission, ProxyContext } from '../protocol/context.js';
import { CursorFlusher } from '../protocol/cursor-flusher.js';
import { DeadlineQueue } from '../protocol/deadline-queue.js';
import { noMetrics, type ProtocolMetrics } from '../protocol/ports.js';
import { ConnectRateLimiter } from '../protocol/connect-rate-limit.js';
import type { ListenerSecurity } from '../auth/listener-security.js';
import { ExpiryPoller } from '../sessions/expiry-poller.js';
import { MemorySessionStore } from '../sessions/memory-session-store.js';
import type { SessionStore } from '../sessions/session-store.js';
import { MemoryTakeoverBus, type TakeoverBus } from '../sessions/takeover-bus.js';

/** A clock the test moves by hand; listeners hear each move (the harness polls the expiry index on it). */
export class ManualClock implements Clock {
  private readonly listeners = new Set<() => void>();
  constructor(private current = 1_700_000_000_000) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
    for (const listener of this.listeners) listener();
  }
  onAdvance(listener: () => void): void {
    this.listeners.add(listener);
  }
}

/** A raw MQTT client over an in-memory stream: send packets or bytes, await the server's packets. */
export class TestClient {
  private readonly parser: ReturnType<typeof mqtt.parser>;
  private readonly inbox: Packet[] = [];
  private waiters: ((packet: Packet | undefined) => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  /** @param peer the server's end of the pair, destroyed with ours by `destroy()` (duplexPair does not link them). */
  constructor(
    private readonly stream: Duplex,
    readonly protocolVersion: 3 | 4 | 5,
    private readonly peer?: Duplex,
  ) {
    this.parser = mqtt.parser({ protocolVersion });
    this.parser.on('packet', (packet: Packet) => this.arrive(packet));
    stream.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        this.ended = true;
        for (const waiter of this.waiters.splice(0)) waiter(undefined);
        resolve();
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
  }

  /** Encodes a packet at this client's version and writes it. */
  send(packet: Packet): void {
    this.stream.write(mqtt.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  /** Writes raw bytes (hostile input). */
  sendRaw(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  /** The next packet from the server; undefined if the connection closed first. Fails after `timeoutMs`. */
  next(timeoutMs = 2_000): Promise<Packet | undefined> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no packet within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((packet) => {
        clearTimeout(timer);
        resolve(packet);
      });
    });
  }

  /** The next packet, which must be of type `cmd`. */
  async expect<C extends Packet['cmd']>(cmd: C, timeoutMs?: number): Promise<Extract<Packet, { cmd: C }>> {
    const packet = await this.next(timeoutMs);
    if (packet?.cmd !== cmd) throw new Error(`expected ${cmd}, got ${packet === undefined ? 'close' : JSON.stringify(packet)}`);
    return packet as Extract<Packet, { cmd: C }>;
  }

  /** Connects with CONNECT and returns the CONNACK. */
  async connect(fields: Partial<mqtt.IConnectPacket> = {}): Promise<mqtt.IConnackPacket> {
    this.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: this.protocolVersion, clientId: 'c', clean: true, keepalive: 0, ...fields });
    return this.expect('connack');
  }

  /** Sends SUBSCRIBE and returns the SUBACK, which must be the next packet. */
  async subscribe(
    subscriptions: mqtt.ISubscription[],
    properties?: mqtt.ISubscribePacket['properties'],
    messageId = 1,
  ): Promise<mqtt.ISubackPacket> {
    this.send({ cmd: 'subscribe', messageId, subscriptions, ...(properties === undefined ? {} : { properties }) });
    return this.expect('suback');
  }

  /** Sends a PUBLISH; QoS 0, no flags and no packet id unless `fields` says otherwise. */
  publish(topic: string, payload: string | Uint8Array, fields: Partial<mqtt.IPublishPacket> = {}): void {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
    this.send({ cmd: 'publish', topic, payload: bytes, qos: 0, dup: false, retain: false, ...fields });
  }

  /** PINGREQ, then the PINGRESP must be the next packet: proves the server sent nothing else before it. */
  async ping(): Promise<void> {
    this.send({ cmd: 'pingreq' });
    await this.expect('pingresp');
  }

  /** Every packet the server sent before its PINGRESP to a PINGREQ sent now (what has arrived so far). */
  async drain(): Promise<Packet[]> {
    this.send({ cmd: 'pingreq' });
    const packets: Packet[] = [];
    for (;;) {
      const packet = await this.next();
      if (packet === undefined) throw new Error('closed before PINGRESP');
      if (packet.cmd === 'pingresp') return packets;
      packets.push(packet);
    }
  }

  /** Stops reading what the server sends (a slow-read attacker); the server's writes back up. */
  stopReading(): void {
    this.stream.pause();
  }

  /** Closes the client side. */
  end(): void {
    this.stream.end();
  }

  /** Drops the connection without DISCONNECT (an abnormal close): both ends go, as when the network fails. */
  destroy(): void {
    this.stream.destroy();
    this.peer?.destroy();
  }

  get isClosed(): boolean {
    return this.ended;
  }

  private arrive(packet: Packet): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(packet);
    else this.inbox.push(packet);
  }
}

const noop = (): void => undefined;

export interface HarnessOptions {
  readonly limits?: Partial<ProxyLimits>;
  readonly admission?: () => Admission;
  /** The metrics the connections report to. @default noMetrics */
  readonly metrics?: ProtocolMetrics;
  /** Concurrent session opens and their queue. @default the configuration's defaults */
  readonly connectAdmission?: ConnectAdmissionConfig;
  /** Puts a backend in front of the memory one, e.g. a GatedBackend whose stores the test settles by hand. */
  readonly backend?: (memory: MemoryBackend) => MessageBackend;
  /** This proxy's id. @default 'test' */
  readonly proxyId?: string;
  /** The store the connections use instead of the harness's own memory store (e.g. one shared with another harness). */
  readonly sessions?: (memory: MemorySessionStore) => SessionStore;
  /** The takeover bus, shared by harnesses that play several proxies. @default a bus of its own */
  readonly takeover?: TakeoverBus;
  /** Security of the listener the clients connect to, and connect-rate buckets (see auth-hostile.test.ts). */
  readonly security?: ListenerSecurity;
  readonly connectRate?: boolean;
}

/** A proxy core in memory, for protocol tests. */
export class ProtocolHarness {
  readonly clock = new ManualClock();
  readonly backend = new MemoryBackend();
  readonly broker: Broker;
  readonly sessions = new MemorySessionStore(this.clock);
  readonly registry = new ClientRegistry();
  readonly ctx: ProxyContext;
  /** Claims due wills and expired sessions each time the clock moves (no timer of its own). */
  readonly expiry: ExpiryPoller;
  private readonly clients: TestClient[] = [];

  constructor(options: HarnessOptions = {}) {
    this.broker = new Broker(options.backend?.(this.backend) ?? this.backend);
    const proxyId = options.proxyId ?? 'test';
    const config = parseProxyConfig({ proxyId, listeners: {}, ring: { file: 'unused' }, limits: options.limits ?? {} });
    const takeover = options.takeover ?? new MemoryTakeoverBus();
    takeover.listen(proxyId, (clientId, epoch) => this.registry.takenElsewhere(clientId, epoch));
    this.ctx = {
      proxyId,
      clock: this.clock,
      limits: config.limits,
      log: silentLogger(),
      metrics: options.metrics ?? noMetrics,
      router: this.broker,
      sessions: options.sessions?.(this.sessions) ?? this.sessions,
      registry: this.registry,
      takeover,
      offline: config.offline,
      cursorFlusher: new CursorFlusher(this.sessions, 0, silentLogger()),
      deadlines: new DeadlineQueue(),
      admission: options.admission ?? ((): Admission => 'accept'),
      connectAdmission: new ConnectAdmission(options.connectAdmission ?? config.connectAdmission),
      nextMessageId: createMessageIds(),
      ...(options.security === undefined ? {} : { security: options.security }),
      ...(options.connectRate === true ? { connectRate: new ConnectRateLimiter(config.limits, this.clock) } : {}),
    };
    const metrics = { willFired: noop, willLost: noop, sessionExpired: noop, corruptEntry: noop, sessionsOrphaned: noop };
    const { sessions: store, log } = this.ctx;
    const livenessMs = Number.MAX_SAFE_INTEGER; // harnesses sharing a store keep clocks of their own: none is ever dead
    this.expiry = new ExpiryPoller({ store, router: this.broker, clock: this.clock, log, metrics, proxyId, livenessMs, intervalMs: 0, batchLimit: 100 });
    this.clock.onAdvance(() => void this.expiry.poll());
  }

  /** A new client connection, connected with CONNECT (client id and any other CONNECT fields). */
  async connected(protocolVersion: 3 | 4 | 5, clientId: string, connect: Partial<mqtt.IConnectPacket> = {}): Promise<TestClient> {
    const client = this.client(protocolVersion);
    await client.connect({ clientId, ...connect });
    return client;
  }

  /** A new client connection (not yet connected at the MQTT level). */
  client(protocolVersion: 3 | 4 | 5 = 5, remoteAddress = 'test'): TestClient {
    const [serverSide, clientSide] = duplexPair();
    // duplexPair does not link the ends' destruction; a socket the server destroys closes for the client too
    serverSide.on('close', () => clientSide.destroy());
    const { maxPacketSizeBytes, slowReadTimeoutMs } = this.ctx.limits;
    const conn = new Connection(serverSide, { maxPacketSizeBytes, hooks: this.ctx.metrics, remoteAddress, slowReadTimeoutMs });
    new ClientHandler(conn, this.ctx);
    const client = new TestClient(clientSide, protocolVersion, serverSide);
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.destroy();
    await this.expiry.close();
    await this.sessions.close();
  }
}

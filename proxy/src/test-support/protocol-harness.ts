// An in-process proxy for protocol tests: real ClientHandler, Connection, Broker and session store over an
// in-memory backend, with clients talking raw MQTT bytes through `duplexPair()` (no sockets, no NATS).
import { duplexPair, type Duplex } from 'node:stream';
import mqtt, { type Packet } from 'mqtt-packet';
import { MemoryBackend } from '../backend/memory-backend.js';
import { Broker } from '../broker/broker.js';
import type { Clock } from '../clock.js';
import { parseProxyConfig } from '../config/load.js';
import type { ProxyLimits } from '../config/schema.js';
import { createMessageIds } from '../message-ids.js';
import { silentLogger } from '../observability/logger.js';
import { ClientHandler } from '../protocol/client-handler.js';
import { ClientRegistry } from '../protocol/client-registry.js';
import { Connection } from '../protocol/connection.js';
import type { Admission, ProxyContext } from '../protocol/context.js';
import { noMetrics } from '../protocol/ports.js';
import { MemorySessionStore } from '../sessions/memory-session-store.js';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current = 1_700_000_000_000) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A raw MQTT client over an in-memory stream: send packets or bytes, await the server's packets. */
export class TestClient {
  private readonly parser: ReturnType<typeof mqtt.parser>;
  private readonly inbox: Packet[] = [];
  private waiters: ((packet: Packet | undefined) => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  constructor(
    private readonly stream: Duplex,
    readonly protocolVersion: 3 | 4 | 5,
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

  /** Closes the client side. */
  end(): void {
    this.stream.end();
  }

  /** Drops the connection without DISCONNECT (an abnormal close). */
  destroy(): void {
    this.stream.destroy();
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

export interface HarnessOptions {
  readonly limits?: Partial<ProxyLimits>;
  readonly admission?: () => Admission;
}

/** A proxy core in memory, for protocol tests. */
export class ProtocolHarness {
  readonly clock = new ManualClock();
  readonly backend = new MemoryBackend();
  readonly broker = new Broker(this.backend);
  readonly sessions = new MemorySessionStore(this.clock);
  readonly registry = new ClientRegistry();
  readonly ctx: ProxyContext;
  private readonly clients: TestClient[] = [];

  constructor(options: HarnessOptions = {}) {
    const config = parseProxyConfig({ proxyId: 'test', listeners: {}, ring: { file: 'unused' }, limits: options.limits ?? {} });
    this.ctx = {
      proxyId: 'test',
      clock: this.clock,
      limits: config.limits,
      log: silentLogger(),
      metrics: noMetrics,
      router: this.broker,
      sessions: this.sessions,
      registry: this.registry,
      admission: options.admission ?? ((): Admission => 'accept'),
      nextMessageId: createMessageIds(),
    };
  }

  /** A new client connection (not yet connected at the MQTT level). */
  client(protocolVersion: 3 | 4 | 5 = 5): TestClient {
    const [serverSide, clientSide] = duplexPair();
    const conn = new Connection(serverSide, { maxPacketSizeBytes: this.ctx.limits.maxPacketSizeBytes, hooks: noMetrics, remoteAddress: 'test' });
    new ClientHandler(conn, this.ctx);
    const client = new TestClient(clientSide, protocolVersion);
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.destroy();
    await this.sessions.close();
  }
}

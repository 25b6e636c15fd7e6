// A minimal, low-overhead MQTT load client over node:net for the benchmarks (MQTT 3.1.1 and 5.0, QoS 0
// and 1). mqtt-packet encodes the CONNECT/SUBSCRIBE packets and one PUBLISH template per publisher; every
// message after that is a copy of the template with its timestamp, sequence and packet id patched in, and
// many messages go out in one write() (Publisher, in publisher.ts). What arrives in volume (PUBLISH, PUBACK,
// PINGRESP) is read straight from the socket chunks by a FrameReader (frame-reader.ts); the rest (CONNACK, SUBACK,
// DISCONNECT, …) by one mqtt-packet parser per connection. QoS 1 deliveries are acknowledged with one write per
// socket read.
//
// Payload layout (so the receiver can compute end-to-end latency in the same process):
//   bytes 0..7  performance.now() at send, float64 LE (ms)    bytes 8..11  sequence number, uint32 LE
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import mqtt from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { FrameReader, type PublishView } from './frame-reader.js';

export type ProtocolVersion = 4 | 5;
export type LoadQoS = 0 | 1;

/** Bytes of the payload header (send time + sequence); payloads must be at least this long. */
export const PAYLOAD_HEADER_BYTES = 12;

export interface RawClientOptions {
  readonly host: string;
  readonly port: number;
  /** Source address, e.g. 127.0.0.x to spread many connections over several ephemeral-port ranges. */
  readonly localAddress?: string;
  readonly clientId: string;
  readonly protocolVersion: ProtocolVersion;
  /** Default 30; a PINGREQ goes out every half of it. */
  readonly keepaliveSeconds?: number;
  /** Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Clean session (3.1.1) / clean start (5.0); default true. */
  readonly clean?: boolean;
  /**
   * Receives PUBLISHes from the start: a server resuming a session may send queued messages in the same read as
   * the CONNACK, before connect() resolves and a handler set afterwards could see them.
   */
  readonly onDelivery?: (delivery: Delivery) => void;
}

/**
 * A message delivered to this client: when it was sent (from the payload; NaN/-1 when the payload is too short)
 * and its sequence. The client reuses one object: it is valid only during the onDelivery call.
 */
export interface Delivery {
  readonly topic: string;
  readonly qos: number;
  readonly sentAtMs: number;
  readonly seq: number;
  readonly payloadBytes: number;
}

const PUBACK_BYTES = 4;

/** One MQTT connection. Set the callbacks before traffic starts; close() always resolves. */
export class RawMqttClient {
  /** A PUBLISH arrived (QoS 1 ones are acknowledged automatically after the read that carried them). */
  onDelivery: (delivery: Delivery) => void = () => undefined;
  /** A PUBACK arrived for one of our QoS 1 PUBLISHes (reason code 0 at MQTT 3.1.1). */
  onPuback: (messageId: number, reasonCode: number) => void = () => undefined;
  /** Called after each socket read has been parsed (publishers refill their window here). */
  onAfterRead: () => void = () => undefined;
  /** Receive Maximum announced by the server in CONNACK (MQTT 5), else 65535. */
  serverReceiveMaximum = 65_535;
  /** The CONNACK's session-present flag. */
  sessionPresent = false;
  /** Set when the connection failed or closed unexpectedly. */
  error: Error | undefined;

  readonly closed: Promise<void>;
  private readonly parser: ReturnType<typeof mqtt.parser>;
  private readonly reader: FrameReader;
  private readonly delivery = { topic: '', qos: 0, sentAtMs: Number.NaN, seq: -1, payloadBytes: 0 };
  private readonly idsInUse = new Uint8Array(65_536);
  private nextId = 1;
  /** Packet ids of the QoS 1 PUBLISHes of the read being parsed, to acknowledge after it. */
  private pendingAcks = new Uint16Array(256);
  private pendingAckCount = 0;
  private waiters = new Map<string, { resolve: (p: Packet) => void; reject: (e: Error) => void }>();
  private pingTimer: NodeJS.Timeout | undefined;
  private closing = false;

  private constructor(
    private readonly socket: Socket,
    readonly options: RawClientOptions,
  ) {
    if (options.onDelivery !== undefined) this.onDelivery = options.onDelivery;
    this.parser = mqtt.parser({ protocolVersion: options.protocolVersion });
    this.parser.on('packet', (packet: Packet) => this.dispatch(packet));
    this.parser.on('error', (err: Error) => this.fail(new Error(`${options.clientId}: bad packet: ${err.message}`)));
    this.reader = new FrameReader(options.protocolVersion, {
      publish: (view) => this.onPublish(view),
      puback: (messageId, reasonCode) => {
        this.freeId(messageId);
        this.onPuback(messageId, reasonCode);
      },
      pingresp: () => undefined,
      other: (packet) => this.parser.parse(packet),
      malformed: (reason) => this.fail(new Error(`${options.clientId}: bad packet: ${reason}`)),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      this.flushAcks();
      this.onAfterRead();
    });
    socket.on('error', (err) => this.fail(err));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
      if (!this.closing) this.fail(new Error(`${options.clientId}: connection closed by the server`));
      for (const waiter of [...this.waiters.values()]) waiter.reject(this.error ?? new Error('closed'));
      resolve();
    }));
  }

  /** Opens the TCP connection and completes CONNECT/CONNACK (clean session / clean start unless `clean: false`). */
  static async connect(options: RawClientOptions): Promise<RawMqttClient> {
    const keepalive = options.keepaliveSeconds ?? 30;
    const socket = netConnect({ host: options.host, port: options.port, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    const client = new RawMqttClient(socket, options);
    const connack = client.expect('connack', options.connectTimeoutMs ?? 5_000);
    client.write(mqtt.generate({ cmd: 'connect', clientId: options.clientId, protocolVersion: options.protocolVersion, clean: options.clean ?? true, keepalive }));
    const ack = await connack.catch(async (err: unknown) => {
      await client.close();
      throw err;
    });
    if (ack.cmd !== 'connack') throw new Error('unreachable');
    const code = ack.reasonCode ?? ack.returnCode ?? 0;
    if (code !== 0) {
      await client.close();
      throw new Error(`${options.clientId}: CONNACK refused with code ${code}`);
    }
    client.serverReceiveMaximum = ack.properties?.receiveMaximum ?? 65_535;
    client.sessionPresent = ack.sessionPresent;
    if (keepalive > 0) client.pingTimer = setInterval(() => client.write(mqtt.generate({ cmd: 'pingreq' })), (keepalive * 1000) / 2);
    return client;
  }

  /** SUBSCRIBE and wait for SUBACK; resolves with the granted QoS (or reason code) per filter. */
  async subscribe(filters: readonly { topic: string; qos: LoadQoS }[], timeoutMs = 5_000): Promise<number[]> {
    const messageId = this.allocateId();
    if (messageId === undefined) throw new Error('no free packet id');
    const suback = this.expect(`suback:${messageId}`, timeoutMs);
    this.write(mqtt.generate({ cmd: 'subscribe', messageId, subscriptions: filters.map((f) => ({ topic: f.topic, qos: f.qos })) }, { protocolVersion: this.options.protocolVersion }));
    const packet = await suback;
    this.freeId(messageId);
    return packet.cmd === 'suback' ? packet.granted.map((g) => (typeof g === 'number' ? g : -1)) : [];
  }

  /** A free packet id (1..65535), or undefined when all are in flight. */
  allocateId(): number | undefined {
    for (let tries = 0; tries < 65_535; tries++) {
      const id = this.nextId;
      this.nextId = id === 65_535 ? 1 : id + 1;
      if (this.idsInUse[id] === 0) {
        this.idsInUse[id] = 1;
        return id;
      }
    }
    return undefined;
  }

  freeId(id: number): void {
    this.idsInUse[id] = 0;
  }

  /** socket.write(); false means "wait for drain" (see waitDrain). */
  write(buffer: Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(buffer);
  }

  waitDrain(callback: () => void): void {
    this.socket.once('drain', callback);
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && this.error === undefined;
  }

  /** DISCONNECT, end, and destroy after `timeoutMs` if the server keeps the socket open. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
      if (!this.socket.destroyed) {
        this.socket.end(mqtt.generate({ cmd: 'disconnect' }, { protocolVersion: this.options.protocolVersion }));
      }
      const timer = setTimeout(() => this.socket.destroy(), timeoutMs);
      await this.closed;
      clearTimeout(timer);
    }
    await this.closed;
  }

  /** Resolves with the packet settled under `key` ('connack', 'suback:<id>'); rejects on timeout or close. */
  private expect(key: string, timeoutMs: number): Promise<Packet> {
    return new Promise((resolve, reject) => {
      const name = key.split(':')[0] ?? key;
      const timer = setTimeout(() => this.waiters.get(key)?.reject(new Error(`${this.options.clientId}: no ${name} within ${timeoutMs} ms`)), timeoutMs);
      const done = <T>(settle: (value: T) => void) => (value: T): void => {
        clearTimeout(timer);
        this.waiters.delete(key);
        settle(value);
      };
      this.waiters.set(key, { resolve: done(resolve), reject: done(reject) });
    });
  }

  /** The packets the FrameReader leaves to mqtt-packet. */
  private dispatch(packet: Packet): void {
    switch (packet.cmd) {
      case 'connack':
        this.waiters.get('connack')?.resolve(packet);
        return;
      case 'suback':
        this.waiters.get(`suback:${packet.messageId ?? 0}`)?.resolve(packet);
        return;
      case 'disconnect':
        this.fail(new Error(`${this.options.clientId}: DISCONNECT from the server, reason ${packet.reasonCode ?? 0}`));
        return;
      default:
        return; // a QoS 2 PUBLISH and anything else a QoS 0/1 load client does not use
    }
  }

  private onPublish({ topic, qos, messageId, frame, payloadStart: start, payloadEnd: end }: PublishView): void {
    if (qos === 1) {
      if (this.pendingAckCount === this.pendingAcks.length) {
        const bigger = new Uint16Array(this.pendingAcks.length * 2);
        bigger.set(this.pendingAcks);
        this.pendingAcks = bigger;
      }
      this.pendingAcks[this.pendingAckCount++] = messageId;
    }
    const stamped = end - start >= PAYLOAD_HEADER_BYTES;
    const delivery = this.delivery;
    delivery.topic = topic;
    delivery.qos = qos;
    delivery.sentAtMs = stamped ? frame.readDoubleLE(start) : Number.NaN;
    delivery.seq = stamped ? frame.readUInt32LE(start + 8) : -1;
    delivery.payloadBytes = end - start;
    this.onDelivery(delivery);
  }

  /** One write with every PUBACK owed for the read just parsed (4 bytes each, reason 0 implied). */
  private flushAcks(): void {
    const count = this.pendingAckCount;
    if (count === 0) return;
    this.pendingAckCount = 0;
    const ids = this.pendingAcks;
    const buffer = Buffer.allocUnsafe(count * PUBACK_BYTES);
    for (let i = 0; i < count; i++) {
      const id = ids[i] ?? 0;
      const at = i * PUBACK_BYTES;
      buffer[at] = 0x40;
      buffer[at + 1] = 0x02;
      buffer[at + 2] = id >> 8;
      buffer[at + 3] = id & 0xff;
    }
    this.write(buffer);
  }

  private fail(err: Error): void {
    if (this.closing) return;
    this.error ??= err;
    this.socket.destroy();
  }
}

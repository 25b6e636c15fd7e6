// A publisher on one RawMqttClient: one topic, QoS 0 or 1, at full speed (honouring write() backpressure, the
// QoS 1 window and an optional credit) or paced at a fixed rate. Every message is a copy of one precomputed
// PUBLISH with its send time, sequence number and packet id patched in (payload layout: raw-mqtt.ts).
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt-packet';
import { PAYLOAD_HEADER_BYTES } from './raw-mqtt.js';
import type { LoadQoS, RawMqttClient } from './raw-mqtt.js';

/** Most PUBLISHes one write() carries. */
const MAX_PER_WRITE = 4_096;

/** The pumps of the running paced publishers, all called by one 1 ms timer (not a timer each). */
const paced = new Set<() => void>();
let pacer: NodeJS.Timeout | undefined;

function pace(pump: () => void): void {
  paced.add(pump);
  pacer ??= setInterval(() => {
    for (const p of paced) p();
  }, 1);
}

function unpace(pump: () => void): void {
  paced.delete(pump);
  if (paced.size === 0 && pacer !== undefined) {
    clearInterval(pacer);
    pacer = undefined;
  }
}

export interface PublisherOptions {
  readonly topic: string;
  readonly qos: LoadQoS;
  /** At least PAYLOAD_HEADER_BYTES. */
  readonly payloadBytes: number;
  /** QoS 1: PUBLISHes awaiting PUBACK (capped by the server's Receive Maximum). Default 64. */
  readonly window?: number;
  /** Messages per second; absent = as fast as the socket (and, at QoS 1, the window) allows. */
  readonly ratePerSecond?: number;
  /** Messages per write() at full speed. Default 16. */
  readonly batch?: number;
  /**
   * How many more messages may go out now (e.g. an end-to-end window: sent minus what the subscribers have
   * seen); absent = no such limit. When it returns ≤ 0 the publisher waits for resume().
   */
  readonly credit?: () => number;
}

/** Publishes one topic from one client: at full speed honouring write() backpressure, or paced. */
export class Publisher {
  /** Next sequence number = messages written so far. */
  sent = 0;
  /** PUBACKs received (QoS 1); `failed` counts those with a reason code ≥ 0x80. */
  acked = 0;
  failed = 0;
  /** QoS 1: called with each publish → PUBACK time in ms. */
  onAcked: (ms: number) => void = () => undefined;

  private readonly template: Buffer;
  private readonly idOffset: number;
  private readonly payloadOffset: number;
  private readonly window: number;
  private readonly batch: number;
  private readonly sentAt = new Float64Array(65_536);
  private inflight = 0;
  private running = false;
  private waitingDrain = false;
  private waitingCredit = false;
  private startedAt = 0;
  private idleWaiter: (() => void) | undefined;

  constructor(
    readonly client: RawMqttClient,
    private readonly options: PublisherOptions,
  ) {
    if (options.payloadBytes < PAYLOAD_HEADER_BYTES) throw new RangeError(`payload must be ≥ ${PAYLOAD_HEADER_BYTES} bytes`);
    const version = client.options.protocolVersion;
    this.template = mqtt.generate(
      { cmd: 'publish', topic: options.topic, payload: Buffer.alloc(options.payloadBytes), qos: options.qos, dup: false, retain: false, ...(options.qos === 1 ? { messageId: 0x1234 } : {}) },
      { protocolVersion: version },
    );
    this.payloadOffset = this.template.length - options.payloadBytes;
    // QoS 1: the packet id sits right before the payload (3.1.1) or before the empty properties (5.0).
    this.idOffset = this.payloadOffset - 2 - (version === 5 ? 1 : 0);
    if (options.qos === 1 && this.template.readUInt16BE(this.idOffset) !== 0x1234) throw new Error('unexpected PUBLISH layout');
    this.window = Math.max(1, Math.min(options.window ?? 64, client.serverReceiveMaximum));
    this.batch = Math.max(1, options.batch ?? 16);
    client.onPuback = (id, reasonCode) => {
      this.inflight--;
      this.acked++;
      if (reasonCode >= 0x80) this.failed++;
      this.onAcked(performance.now() - (this.sentAt[id] ?? 0));
      if (this.inflight === 0) this.idleWaiter?.();
    };
    // QoS 1 refills its window after each read that carried PUBACKs (paced: sends what is due by then, so
    // messages leave as soon as they are due, not only on the 1 ms ticks); QoS 0 has its own loop (or the pacer).
    if (options.qos === 1) client.onAfterRead = this.pump;
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** Sends again after `credit` ran out (a no-op unless the publisher is waiting for credit). */
  resume(): void {
    if (!this.waitingCredit) return;
    this.waitingCredit = false;
    setImmediate(this.pump);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = performance.now();
    if (this.options.ratePerSecond !== undefined) pace(this.pump);
    this.pump();
  }

  /** Stops sending; resolves once every QoS 1 PUBLISH is acknowledged, or after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.running = false;
    unpace(this.pump);
    if (this.inflight === 0 || !this.client.isOpen) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** `count` capped by the credit; with none left at full speed, waits for resume() (QoS 1: once nothing is in flight). */
  private limitByCredit(count: number, fullSpeed: boolean): number {
    if (this.options.credit === undefined) return count;
    const credit = this.options.credit();
    if (credit <= 0 && fullSpeed && (this.options.qos === 0 || this.inflight === 0)) this.waitingCredit = true;
    return Math.min(count, credit);
  }

  private readonly pump = (): void => {
    if (!this.running || this.waitingDrain || !this.client.isOpen) return;
    const rate = this.options.ratePerSecond;
    // Full speed: a batch per write at QoS 0, the whole free window at QoS 1. Paced: what is due by now.
    const now = performance.now();
    let count = this.options.qos === 1 ? MAX_PER_WRITE : this.batch;
    if (rate !== undefined) count = Math.min(MAX_PER_WRITE, Math.floor(((now - this.startedAt) * rate) / 1000) - this.sent);
    if (this.options.qos === 1) count = Math.min(count, this.window - this.inflight);
    count = this.limitByCredit(count, rate === undefined);
    if (count <= 0) return;
    // One send time for the whole write: its messages leave together.
    const size = this.template.length;
    const buffer = Buffer.allocUnsafe(count * size);
    for (let i = 0; i < count; i++) {
      const at = i * size;
      this.template.copy(buffer, at);
      buffer.writeDoubleLE(now, at + this.payloadOffset);
      buffer.writeUInt32LE(this.sent >>> 0, at + this.payloadOffset + 8);
      if (this.options.qos === 1) {
        const id = this.client.allocateId();
        if (id === undefined) throw new Error('no free packet id');
        buffer.writeUInt16BE(id, at + this.idOffset);
        this.sentAt[id] = now;
        this.inflight++;
      }
      this.sent++;
    }
    if (!this.client.write(buffer)) {
      this.waitingDrain = true;
      this.client.waitDrain(() => {
        this.waitingDrain = false;
        this.pump();
      });
    } else if (this.options.qos === 0 && rate === undefined) {
      setImmediate(this.pump);
    }
  };
}

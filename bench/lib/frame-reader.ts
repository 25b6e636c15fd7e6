// The load generator's reader for the packets it receives in volume, straight from the socket chunks: PUBLISH
// at QoS 0 and 1 (MQTT 3.1.1 and 5.0; 5.0 properties skipped), PUBACK (3.1.1, and 5.0 with its reason code;
// properties skipped) and PINGRESP. A frame split over reads is kept until it is whole (a fixed header of up to
// 5 bytes first, then the frame, copied once into a buffer of its size). Every other packet (CONNACK, SUBACK,
// DISCONNECT, QoS 2 PUBLISH, …) is handed whole to `other`, which gives it to mqtt-packet.
//
// Nothing is allocated per PUBLISH but the topic string: the payload is passed as the frame's buffer and offsets.

/** A PUBLISH read at QoS 0 or 1; the reader reuses one object, valid only during the publish() call. */
export interface PublishView {
  readonly topic: string;
  readonly qos: number;
  /** 0 at QoS 0. */
  readonly messageId: number;
  /** `frame[payloadStart..payloadEnd)` is the payload. */
  readonly frame: Buffer;
  readonly payloadStart: number;
  readonly payloadEnd: number;
}

/** What the reader found; called synchronously from push(), in stream order. */
export interface FrameSink {
  publish(view: PublishView): void;
  puback(messageId: number, reasonCode: number): void;
  pingresp(): void;
  /** One whole packet of another type (or a QoS 2 PUBLISH), for mqtt-packet. */
  other(packet: Buffer): void;
  /** The stream is malformed; push() ignores everything after this. */
  malformed(reason: string): void;
}

const PUBLISH = 3;
const PUBACK = 4;
const PINGRESP = 13;
/** The largest fixed header: 1 byte type and flags, up to 4 bytes of Remaining Length. */
const MAX_HEADER = 5;
/** frameSize(): the fixed header is not complete yet. */
const INCOMPLETE = -1;
/** frameSize(): the Remaining Length runs past 4 bytes. */
const BAD_LENGTH = -2;

/** Reads frames from a byte stream for one connection at one protocol version. */
export class FrameReader {
  /** Bytes of a fixed header split over reads (fewer than needed to know the frame size). */
  private head: Buffer | undefined;
  /** A frame split over reads, and how much of it has arrived. */
  private partial: Buffer | undefined;
  private filled = 0;
  private failed = false;
  /** The size of the fixed header measured by the last frameSize(). */
  private headerBytes = 0;
  private readonly view: { -readonly [K in keyof PublishView]: PublishView[K] } = { topic: '', qos: 0, messageId: 0, frame: Buffer.alloc(0), payloadStart: 0, payloadEnd: 0 };

  constructor(
    private readonly protocolVersion: 4 | 5,
    private readonly sink: FrameSink,
  ) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    let at = 0;
    if (this.head !== undefined) {
      const head = this.head;
      const joined = Buffer.concat([head, chunk.subarray(0, MAX_HEADER)]);
      const size = this.frameSize(joined, 0, joined.length);
      if (size === INCOMPLETE) {
        this.head = joined;
        return;
      }
      this.head = undefined;
      if (size === BAD_LENGTH) return this.fail('Remaining Length longer than 4 bytes');
      this.partial = Buffer.allocUnsafe(size);
      this.filled = head.copy(this.partial, 0);
    }
    if (this.partial !== undefined) {
      const frame = this.partial;
      const taken = Math.min(frame.length - this.filled, chunk.length);
      chunk.copy(frame, this.filled, 0, taken);
      this.filled += taken;
      if (this.filled < frame.length) return;
      this.partial = undefined;
      at = taken;
      this.frameSize(frame, 0, frame.length);
      this.frame(frame, 0, this.headerBytes, frame.length);
    }
    this.frames(chunk, at);
  }

  /** The frames of `chunk` from `at` on; keeps a trailing partial frame. */
  private frames(chunk: Buffer, from: number): void {
    let at = from;
    const end = chunk.length;
    while (at < end && !this.failed) {
      const size = this.frameSize(chunk, at, end);
      if (size === INCOMPLETE) {
        this.head = Buffer.from(chunk.subarray(at));
        return;
      }
      if (size === BAD_LENGTH) return this.fail('Remaining Length longer than 4 bytes');
      if (at + size > end) {
        this.partial = Buffer.allocUnsafe(size);
        this.filled = chunk.copy(this.partial, 0, at);
        return;
      }
      this.frame(chunk, at, at + this.headerBytes, at + size);
      at += size;
    }
  }

  /** One whole frame: `start` its first byte, `body` the byte after the fixed header, `end` one past its last. */
  private frame(buf: Buffer, start: number, body: number, end: number): void {
    const first = buf[start] ?? 0;
    const type = first >> 4;
    if (type === PUBLISH) {
      const qos = (first >> 1) & 3;
      if (qos === 3) return this.fail('PUBLISH with both QoS bits set');
      if (qos === 2) return this.sink.other(buf.subarray(start, end));
      return this.publish(buf, qos, body, end);
    }
    if (type === PUBACK) {
      if (end - body < 2) return this.fail('PUBACK shorter than a packet identifier');
      const reasonCode = this.protocolVersion === 5 && end - body > 2 ? (buf[body + 2] ?? 0) : 0;
      return this.sink.puback(buf.readUInt16BE(body), reasonCode);
    }
    if (type === PINGRESP) {
      if (end !== body) return this.fail('PINGRESP with a Remaining Length');
      return this.sink.pingresp();
    }
    this.sink.other(buf.subarray(start, end));
  }

  private publish(buf: Buffer, qos: number, body: number, end: number): void {
    if (end - body < 2) return this.fail('PUBLISH without a topic length');
    let at = body + 2 + buf.readUInt16BE(body);
    if (at > end) return this.fail('PUBLISH topic runs past the packet');
    const topic = buf.toString('utf8', body + 2, at);
    let messageId = 0;
    if (qos > 0) {
      if (at + 2 > end) return this.fail('PUBLISH without a packet identifier');
      messageId = buf.readUInt16BE(at);
      at += 2;
    }
    if (this.protocolVersion === 5) {
      const propertiesEnd = this.frameSize(buf, at - 1, end); // the properties length is a variable byte integer too
      if (propertiesEnd === INCOMPLETE) return this.fail('PUBLISH properties length runs past the packet');
      if (propertiesEnd === BAD_LENGTH) return this.fail('PUBLISH properties length longer than 4 bytes');
      at += propertiesEnd - 1;
      if (at > end) return this.fail('PUBLISH properties run past the packet');
    }
    const view = this.view;
    view.topic = topic;
    view.qos = qos;
    view.messageId = messageId;
    view.frame = buf;
    view.payloadStart = at;
    view.payloadEnd = end;
    this.sink.publish(view);
  }

  /**
   * The size (fixed header + Remaining Length) of the frame starting at `at`, INCOMPLETE or BAD_LENGTH; sets
   * headerBytes. With `at` one byte before a 5.0 properties length, it is 1 + that length's bytes + its value.
   */
  private frameSize(buf: Buffer, at: number, end: number): number {
    let value = 0;
    let multiplier = 1;
    for (let i = 1; i < MAX_HEADER; i++) {
      if (at + i >= end) return INCOMPLETE;
      const byte = buf[at + i] ?? 0;
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        this.headerBytes = i + 1;
        return i + 1 + value;
      }
      multiplier *= 128;
    }
    return BAD_LENGTH;
  }

  private fail(reason: string): void {
    this.failed = true;
    this.head = undefined;
    this.partial = undefined;
    this.sink.malformed(reason);
  }
}

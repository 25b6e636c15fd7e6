import type { Duplex } from 'node:stream';
import mqtt from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { ProtocolError } from '../errors.js';
import { CONNECT_PREAMBLE_BYTES, connectProtocolLevel } from './connect-preamble.js';
import { FrameGuard } from './frame-guard.js';
import { INITIAL_DECODER_SETTINGS, PacketDecoder, settingsAfterConnect } from './packet-decoder.js';
import type { DecoderSettings } from './packet-decoder.js';
import { asBuffer } from '../bytes.js';
import { encodeFastPath, encodePublish } from './publish-encoder.js';
import type { OutboundPublish } from './publish-encoder.js';
import { ReasonCode } from './reason-codes.js';
import { SlowReadGuard } from './slow-read-guard.js';
import type { SendResult } from './outbound-flow.js';

/**
 * From this payload size on, a delivery's payload is written after its header as a second buffer (one writev with
 * the rest of the tick) instead of being copied: `npx tsx bench/publish-write.ts` measured the copy as cheap as a
 * second write at 128 B and dearer from 512 B (0.92–0.96 against 0.71–0.75 µs of CPU per message; 4 KB: 3.5
 * against 2.0–2.7 µs).
 */
const SEPARATE_PAYLOAD_BYTES = 512;

/** Shared by every connection's empty preamble (never written to). */
const NO_BYTES = Buffer.alloc(0);

/** MQTT protocol level: 3 = 3.1, 4 = 3.1.1, 5 = 5.0. */
export type ProtocolVersion = 3 | 4 | 5;

/** Counters a connection reports to; injected so this module stays free of prom-client. */
export interface ConnectionHooks {
  bytesIn(bytes: number): void;
  bytesOut(bytes: number): void;
  /** The connection was closed by the slow-read guard. */
  slowReaderClosed?(): void;
}

export interface ConnectionEvents {
  /** A complete packet; called synchronously in arrival order. */
  onPacket(packet: Packet): void;
  /** A protocol violation found while decoding (ProtocolError) or a transport error. */
  onError(error: Error): void;
  /** The transport closed; called once. */
  onClose(): void;
  /** The socket's write buffer drained below its high-water mark. */
  onDrain(): void;
}

/** The subject of a client certificate verified during the TLS handshake. */
export interface PeerIdentity {
  readonly commonName?: string;
  /** As OpenSSL prints them: `DNS:device-1.example`, `URI:spiffe://…`, `email:…`, `IP Address:…`. */
  readonly subjectAltNames: readonly string[];
}

export interface ConnectionOptions {
  readonly maxPacketSizeBytes: number;
  readonly hooks: ConnectionHooks;
  readonly remoteAddress: string;
  /** Set when the transport verified a client certificate (for the authentication chain). */
  readonly peerIdentity?: PeerIdentity;
  /** Close the connection when its socket stays above the write high-water mark this long (0 or absent: never). */
  readonly slowReadTimeoutMs?: number;
  /** One decoder shared by the connections of a proxy; a connection of its own makes one when absent. */
  readonly decoder?: PacketDecoder;
}

/**
 * The byte side of one MQTT connection over any Duplex (TCP, TLS, WebSocket stream, an in-memory pair in tests):
 * guards declared packet sizes, decodes with mqtt-packet, and encodes every outbound packet at the negotiated
 * protocol version through `send()`.
 */
export class Connection {
  /** Negotiated protocol version; set from CONNECT. Every outbound packet is encoded with it. */
  protocolVersion: ProtocolVersion = 4;
  /** The client's Maximum Packet Size; larger outbound packets are not written [MQTT-3.1.2-24]. */
  maxOutboundPacketBytes = Number.MAX_SAFE_INTEGER;
  readonly remoteAddress: string;
  readonly peerIdentity: PeerIdentity | undefined;
  private readonly decoder: PacketDecoder;
  private decoderSettings: DecoderSettings = INITIAL_DECODER_SETTINGS;
  /** The first bytes of a packet that the chunks read so far did not complete. */
  private partial: Buffer[] | undefined;
  private readonly guard: FrameGuard;
  private events: ConnectionEvents | undefined;
  private closed = false;
  private corked = false;
  /** The first bytes, until they tell the protocol level of the CONNECT (see connect-preamble.ts). */
  private preamble: Buffer | undefined = NO_BYTES;
  /** The bound on `end()`, cleared at close: its timer would hold this connection and its client for a second. */
  private endBound: NodeJS.Timeout | undefined;
  /** Made at the first write that meets backpressure (most connections never do). */
  private slowRead: SlowReadGuard | undefined;

  constructor(
    private readonly stream: Duplex,
    private readonly options: ConnectionOptions,
  ) {
    this.remoteAddress = options.remoteAddress;
    this.peerIdentity = options.peerIdentity;
    this.guard = new FrameGuard(options.maxPacketSizeBytes);
    this.decoder = options.decoder ?? new PacketDecoder();
  }

  /** Starts reading; events are delivered to `events` from now on. */
  start(events: ConnectionEvents): void {
    this.events = events;
    this.stream.on('data', (chunk: Buffer) => this.receive(chunk));
    this.stream.on('error', (err: Error) => this.fail(err));
    this.stream.on('close', () => {
      clearTimeout(this.endBound);
      this.finish();
    });
    this.stream.on('end', () => this.finish());
    this.stream.on('drain', () => {
      this.slowRead?.drained();
      if (!this.closed) this.events?.onDrain();
    });
  }

  /** Encodes and writes a packet. PUBLISHes above the client's maximum size are refused with 'too-large'. */
  send(packet: Packet): SendResult {
    if (this.closed || this.stream.destroyed) return 'closed';
    const bytes = encodeFastPath(packet, this.protocolVersion) ?? mqtt.generate(packet, { protocolVersion: this.protocolVersion });
    if (packet.cmd === 'publish' && bytes.length > this.maxOutboundPacketBytes) return 'too-large';
    return this.write(bytes);
  }

  /** Encodes and writes a delivery (publish-encoder.ts); 'too-large' above the client's maximum size. */
  sendPublish(publish: OutboundPublish): SendResult {
    if (this.closed || this.stream.destroyed) return 'closed';
    const payload = publish.payload;
    if (payload.length < SEPARATE_PAYLOAD_BYTES) {
      const bytes = encodePublish(publish, this.protocolVersion);
      if (bytes.length > this.maxOutboundPacketBytes) return 'too-large';
      return this.write(bytes);
    }
    const head = encodePublish(publish, this.protocolVersion, false);
    if (head.length + payload.length > this.maxOutboundPacketBytes) return 'too-large';
    this.options.hooks.bytesOut(head.length);
    this.corkUntilNextTick();
    this.stream.write(head);
    return this.write(asBuffer(payload));
  }

  private write(bytes: Buffer): SendResult {
    this.options.hooks.bytesOut(bytes.length);
    this.corkUntilNextTick();
    if (this.stream.write(bytes)) return 'sent';
    this.slowReadGuard().blocked();
    return 'backpressured';
  }

  private slowReadGuard(): SlowReadGuard {
    return (this.slowRead ??= new SlowReadGuard(this.options.slowReadTimeoutMs ?? 0, () => {
      this.options.hooks.slowReaderClosed?.();
      this.destroy();
    }));
  }

  /**
   * Coalesces the packets written in one tick into one socket write (writev): one syscall for a burst of PUBACKs
   * or deliveries instead of one per packet.
   */
  private corkUntilNextTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.stream.cork();
    process.nextTick(() => {
      this.corked = false;
      this.stream.uncork();
    });
  }

  /** False while the transport's write buffer is above its high-water mark. */
  get writable(): boolean {
    return !this.closed && !this.stream.writableNeedDrain;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops reading from the socket (backpressure toward a fast publisher). */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    if (!this.closed) this.stream.resume();
  }

  /** Flushes what was written, then closes. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.slowRead?.close();
    this.stream.end();
    // a peer that never reads must not keep the socket: destroy after a bound
    this.endBound = setTimeout(() => this.stream.destroy(), 1_000).unref();
    this.events?.onClose();
  }

  /** Closes at once, dropping unsent data. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.slowRead?.close();
    this.stream.destroy();
    this.events?.onClose();
  }

  /** Changes the inbound packet size limit (once CONNECT negotiated it). */
  setMaxPacketSize(bytes: number): void {
    this.guard.setLimit(bytes);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.options.hooks.bytesIn(chunk.length);
    let ends: number[];
    try {
      ends = this.guard.inspect(chunk);
      if (this.preamble !== undefined) this.readPreamble(chunk);
    } catch (err: unknown) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    // one packet per parse: mqtt-packet reads a field that overruns its packet from whatever follows in its
    // buffer; fed packet by packet, it finds nothing there and the packet is refused as malformed
    let start = 0;
    for (const end of ends) {
      const piece = chunk.subarray(start, end);
      start = end;
      const partial = this.partial;
      this.partial = undefined;
      if (!this.decodeOne(partial === undefined ? piece : Buffer.concat([...partial, piece]))) return;
    }
    if (start < chunk.length) (this.partial ??= []).push(chunk.subarray(start));
  }

  /** Decodes one whole packet and hands it on; false once the connection is closed (by an error or a handler). */
  private decodeOne(bytes: Buffer): boolean {
    let packet: Packet;
    try {
      packet = this.decoder.decode(bytes, this.decoderSettings);
    } catch (err: unknown) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    this.decoderSettings = settingsAfterConnect(packet, this.decoderSettings);
    this.events?.onPacket(packet);
    return !this.closed;
  }

  /**
   * Learns the protocol level before the parser sees the CONNECT: a v5 client is answered in v5 even when its
   * CONNECT is malformed, and an unknown level gets CONNACK 0x01 / 0x84 rather than a bare close [MQTT-3.1.2-2].
   */
  private readPreamble(chunk: Buffer): void {
    const bytes = Buffer.concat([this.preamble ?? NO_BYTES, chunk.subarray(0, CONNECT_PREAMBLE_BYTES)]);
    const level = connectProtocolLevel(bytes);
    if (level === 'more') {
      this.preamble = bytes;
      return;
    }
    this.preamble = undefined;
    if (level === undefined) return;
    const version = level & 0x7f; // bit 7 marks a bridge (mosquitto), as mqtt-packet accepts it
    if (version === 5) this.protocolVersion = 5;
    else if (version !== 3 && version !== 4) {
      throw new ProtocolError(ReasonCode.UnsupportedProtocolVersion, `protocol level ${level} is not supported`);
    }
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.events?.onError(error);
    // a handler that did not close the connection leaves it to us: an error always ends it
    this.destroy();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.slowRead?.close();
    this.events?.onClose();
  }
}

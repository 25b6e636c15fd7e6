// The one place that reaches into nats.js internals (pinned at 3.4.0 in proxy/package.json), for the hot path:
//
// - writing: one PUB/HPUB frame per message built here as bytes (protocol line, the header block
//   headerBlockText made, payload, CRLF), the frames of a turn handed over with ONE `protocol.sendCommand`,
//   instead of NatsConnection.publish building the line as a string, TextEncoding it and a MsgHdrs encoding
//   its headers, per message;
// - reading: a delivered message's raw header block (`MsgImpl._rdata` up to `_msg.hdr`) and its subject bytes,
//   instead of the `headers` getter building a MsgHdrs and TextDecoding the subject.
//
// A NatsWire checks at construction that the connection's protocol handler looks as expected, and each read
// checks the message's shape; whatever does not look right goes through the public API (NatsConnection.publish
// with a MsgHdrs, Msg.headers, Msg.subject), which produces the same bytes on the wire.
import { headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { digitsIn, headerPairs, type HeaderBlock } from './header-block.js';

/** The parts of nats-core's ProtocolHandler the fast path uses. */
interface ProtocolInternals {
  sendCommand(frame: Uint8Array): void;
  readonly info?: { readonly headers?: boolean; readonly max_payload?: number };
  readonly noMorePublishing: boolean;
  outMsgs: number;
  outBytes: number;
}

/**
 * Buffer's own encoders, which Buffer#write calls after checking its arguments (undocumented, in Node since its
 * first releases): called directly they took 10–20 % less of the publishing proxy's CPU per QoS 1 message here.
 * Buffer#write is used when they are missing.
 */
interface RawWrites {
  utf8Write(text: string, offset: number): number;
  latin1Write(text: string, offset: number): number;
}
const RAW_WRITES = typeof (Buffer.prototype as unknown as Partial<RawWrites>).latin1Write === 'function' &&
  typeof (Buffer.prototype as unknown as Partial<RawWrites>).utf8Write === 'function';
const writeUtf8 = (slab: Buffer, text: string, at: number): number =>
  RAW_WRITES ? (slab as unknown as RawWrites).utf8Write(text, at) : slab.write(text, at);
/** An ASCII text (a header block): latin1 writes its bytes unchanged, without looking for multi-byte characters. */
const writeAscii = (slab: Buffer, text: string, at: number): number =>
  RAW_WRITES ? (slab as unknown as RawWrites).latin1Write(text, at) : slab.write(text, at, 'latin1');

/** The parts of nats-core's MsgImpl the fast path reads. */
interface MsgInternals {
  readonly _msg?: { readonly hdr?: unknown; readonly subject?: unknown };
  readonly _rdata?: unknown;
}

function protocolOf(nc: NatsConnection): ProtocolInternals | undefined {
  const protocol: unknown = (nc as unknown as { protocol?: unknown }).protocol;
  if (typeof protocol !== 'object' || protocol === null) return undefined;
  const p = protocol as Record<string, unknown>;
  const looksRight =
    typeof p['sendCommand'] === 'function' &&
    typeof p['publish'] === 'function' &&
    typeof p['noMorePublishing'] === 'boolean' &&
    typeof p['outMsgs'] === 'number' &&
    typeof p['outBytes'] === 'number' &&
    typeof p['outbound'] === 'object';
  return looksRight ? (protocol as ProtocolInternals) : undefined;
}

const CRLF_LENGTH = 2;
/** Frames are written into slabs of this size (a larger frame gets a slab of its own). */
const SLAB_BYTES = 64 * 1024;
/** Frames handed to nats.js at once at most: its own threshold for writing inline (FLUSH_THRESHOLD). */
const BATCH_BYTES = 32 * 1024;

/** The MsgHdrs the public API needs for a header block (the fallback path). */
export function msgHdrsOf(block: HeaderBlock): MsgHdrs {
  const h = natsHeaders();
  for (const [key, value] of headerPairs(block)) h.append(key, value);
  return h;
}

export interface NatsWireOptions {
  /** Use the public API only (tests compare both paths). */
  readonly publicApi?: boolean;
}

/** Publishing and reading on one connection; see the module comment. */
export class NatsWire {
  private readonly protocol: ProtocolInternals | undefined;
  /**
   * Frames of this turn are written one after the other into a slab and handed to nats.js as ONE buffer in a
   * microtask (or once BATCH_BYTES are waiting): no buffer per frame, and nats.js copies nothing to join them.
   * What was handed over is never written again; a full slab is replaced by a new one.
   */
  private slab = Buffer.allocUnsafeSlow(0);
  private handedTo = 0;
  private writtenTo = 0;
  private handOverQueued = false;
  private readonly handOver = (): void => {
    this.handOverQueued = false;
    if (this.writtenTo === this.handedTo || this.protocol === undefined) return;
    const batch = this.slab.subarray(this.handedTo, this.writtenTo);
    this.handedTo = this.writtenTo;
    this.protocol.sendCommand(batch);
  };

  constructor(
    private readonly nc: NatsConnection,
    options: NatsWireOptions = {},
  ) {
    this.protocol = options.publicApi === true ? undefined : protocolOf(nc);
  }

  /** True when frames are written directly (nats.js internals as expected), false on the public API. */
  get fast(): boolean {
    return this.protocol !== undefined;
  }

  /**
   * Publishes `payload` on `subject` with the header block (absent: a plain PUB) and reply subject. Subjects come
   * from routing/subject-mapping.ts, which refuses whitespace. Throws when the connection is closed or draining,
   * or the message exceeds the server's max_payload.
   */
  publish(subject: string, payload: Uint8Array, block: HeaderBlock | undefined, reply?: string): void {
    const protocol = this.protocol;
    if (protocol === undefined) {
      this.nc.publish(subject, payload, {
        ...(block === undefined ? {} : { headers: msgHdrsOf(block) }),
        ...(reply === undefined ? {} : { reply }),
      });
      return;
    }
    const headerLength = block === undefined ? 0 : block.length; // ASCII: one byte per character
    const total = headerLength + payload.length;
    this.check(protocol, subject, total, block !== undefined);
    const target = reply === undefined ? subject : `${subject} ${reply}`;
    const line = block === undefined ? `PUB ${target} ${total}\r\n` : `HPUB ${target} ${headerLength} ${total}\r\n`;
    const slab = this.room(line.length * 3 + total + CRLF_LENGTH); // UTF-8: at most 3 bytes per UTF-16 unit
    let at = this.writtenTo;
    at += writeUtf8(slab, line, at);
    if (block !== undefined) at += writeAscii(slab, block, at);
    slab.set(payload, at);
    at += payload.length;
    slab[at++] = 0x0d;
    slab[at++] = 0x0a;
    this.writtenTo = at;
    protocol.outBytes += total;
    protocol.outMsgs += 1;
    if (at - this.handedTo >= BATCH_BYTES) {
      this.handOver();
    } else if (!this.handOverQueued) {
      this.handOverQueued = true;
      queueMicrotask(this.handOver);
    }
  }

  /** The slab, with at least `bytes` free after writtenTo (what was written before is handed over first). */
  private room(bytes: number): Buffer {
    if (this.writtenTo + bytes <= this.slab.length) return this.slab;
    this.handOver();
    this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes));
    this.handedTo = 0;
    this.writtenTo = 0;
    return this.slab;
  }

  /** What NatsConnection.publish refuses, refused the same way. */
  private check(protocol: ProtocolInternals, subject: string, total: number, withHeaders: boolean): void {
    if (this.nc.isClosed()) throw new Error('the connection is closed');
    if (protocol.noMorePublishing) throw new Error('the connection is draining');
    if (subject === '') throw new Error('an empty subject');
    const info = protocol.info;
    if (info === undefined) return; // not connected yet: nats.js checks nothing either
    if (total > (info.max_payload ?? Number.POSITIVE_INFINITY)) throw new Error('max_payload size exceeded');
    if (withHeaders && info.headers === false) throw new Error('the server takes no headers');
  }

  /** The raw header block of a received message (fast path) or its MsgHdrs; undefined when it has none. */
  headersOf(msg: Msg): Uint8Array | MsgHdrs | undefined {
    if (this.protocol !== undefined) {
      const raw = msg as unknown as MsgInternals;
      const hdr = raw._msg?.hdr;
      const data = raw._rdata;
      if (typeof hdr === 'number' && data instanceof Uint8Array && hdr <= data.length) {
        return hdr > 0 ? data.subarray(0, hdr) : undefined;
      }
    }
    return msg.headers;
  }

  /**
   * The number after `prefix` in a received message's subject (the token of a reply subject `<prefix><digits>`),
   * read from the subject's bytes on the fast path; undefined when the subject is not of that form.
   */
  tokenAfter(msg: Msg, prefix: string): number | undefined {
    const subject = this.protocol === undefined ? undefined : (msg as unknown as MsgInternals)._msg?.subject;
    if (!(subject instanceof Uint8Array)) return tokenOf(msg.subject, prefix);
    return digitsIn(subject, prefix.length, subject.length); // the subscription matched the prefix
  }
}

function tokenOf(subject: string, prefix: string): number | undefined {
  if (!subject.startsWith(prefix)) return undefined;
  const digits = subject.slice(prefix.length);
  return /^\d{1,15}$/.test(digits) ? Number(digits) : undefined;
}

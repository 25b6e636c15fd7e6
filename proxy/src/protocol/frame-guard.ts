import { ReasonCode } from './reason-codes.js';
import { ProtocolError } from '../errors.js';

/**
 * Watches the byte stream ahead of the packet parser and rejects a packet as soon as its fixed header
 * declares a Remaining Length above the limit, before any of its body is buffered. The parser (mqtt-packet)
 * would otherwise buffer up to 256 MB per connection for a single declared packet.
 */
export class FrameGuard {
  /** Bytes still to skip in the body of the current packet. */
  private remaining = 0;
  /** Header bytes read so far of the packet being started (type byte + up to 4 length bytes); no array per connection. */
  private headerBytes = 0;
  /** The Remaining Length read so far, and the weight of its next byte. */
  private length = 0;
  private multiplier = 1;

  /** @param maxPacketSizeBytes largest whole packet (fixed header included) accepted. */
  constructor(private maxPacketSizeBytes: number) {}

  /** Changes the limit, e.g. once CONNECT is accepted. */
  setLimit(maxPacketSizeBytes: number): void {
    this.maxPacketSizeBytes = maxPacketSizeBytes;
  }

  /**
   * Inspects a chunk; throws ProtocolError(PacketTooLarge or MalformedPacket) when a header breaks the rules.
   * Returns the offsets in `chunk` where a packet ends, so the caller can hand the parser one packet at a time:
   * a field that claims more bytes than its packet holds then reads nothing instead of the next packet's bytes.
   */
  inspect(chunk: Uint8Array): number[] {
    const ends: number[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= skip;
        offset += skip;
        if (this.remaining === 0) ends.push(offset);
        continue;
      }
      const byte = chunk[offset] ?? 0;
      offset += 1;
      if (this.readHeader(byte) && this.remaining === 0) ends.push(offset);
    }
    return ends;
  }

  /** Reads one more byte of the fixed header; true once the header is complete. */
  private readHeader(byte: number): boolean {
    this.headerBytes += 1;
    if (this.headerBytes === 1) return false; // the packet type
    this.length += (byte & 0x7f) * this.multiplier;
    if ((byte & 0x80) === 0) {
      this.complete(this.length, this.headerBytes);
      return true;
    }
    this.multiplier *= 128;
    // [MQTT-1.5.5-1] a Variable Byte Integer has at most four bytes
    if (this.headerBytes >= 5) throw new ProtocolError(ReasonCode.MalformedPacket, 'remaining length longer than 4 bytes');
    return false;
  }

  private complete(remainingLength: number, headerBytes: number): void {
    this.headerBytes = 0;
    this.length = 0;
    this.multiplier = 1;
    if (remainingLength + headerBytes > this.maxPacketSizeBytes) {
      throw new ProtocolError(
        ReasonCode.PacketTooLarge,
        `packet of ${remainingLength + headerBytes} bytes exceeds the maximum of ${this.maxPacketSizeBytes}`,
      );
    }
    this.remaining = remainingLength;
  }
}

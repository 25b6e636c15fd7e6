import mqtt from 'mqtt-packet';
import type { IDisconnectPacket, Packet } from 'mqtt-packet';
import { ProtocolError } from '../errors.js';
import { decodeConnect } from './connect-codec.js';
import { decodeDataPacket } from './publish-codec.js';
import { ReasonCode } from './reason-codes.js';

/** What mqtt-packet's parser reads from its `settings` while decoding: the level (and bridge bit) of the CONNECT. */
export interface DecoderSettings {
  readonly protocolVersion: number;
  readonly bridgeMode?: boolean;
}

/** mqtt-packet keeps the CONNECT it parsed as `settings` and reads the protocol level from it. */
type SettableParser = ReturnType<typeof mqtt.parser> & { settings: DecoderSettings };

/** The settings a connection starts with, before its CONNECT: mqtt-packet's own default level. */
export const INITIAL_DECODER_SETTINGS: DecoderSettings = { protocolVersion: 4 };

/**
 * Decodes whole MQTT packets with one mqtt-packet parser for many connections. A parser per connection costs
 * ~0.7–1.6 KB of heap (the parser, its buffer-list stream with two stream states, two packets and the CONNECT it
 * keeps; docs/performance.md); sharing one is safe because `Connection` hands it exactly one complete packet at
 * a time (FrameGuard knows the boundaries), so no bytes of one connection stay in it when another's arrive, and
 * each call sets the calling connection's protocol level. A parser that failed is replaced, never reused.
 */
/** What one parse() call produced: the packet, any further packets (none expected), the parser's error. */
interface Outcome {
  packet?: Packet;
  extra: number;
  failure?: string;
}

export class PacketDecoder {
  private parser: SettableParser;
  private outcome: Outcome = { extra: 0 };

  constructor() {
    this.parser = this.freshParser();
  }

  /**
   * Decodes one complete packet with the connection's settings (the data plane's packets through the fast path,
   * the rest with mqtt-packet); throws ProtocolError(MalformedPacket) when
   * mqtt-packet refuses it or when the bytes are not exactly one packet.
   */
  decode(bytes: Buffer, settings: DecoderSettings): Packet {
    // PUBLISH and its acknowledgements in their common forms skip mqtt-packet (publish-codec.ts), and so do a plain
    // DISCONNECT and a v3.1.1 / v3.1 CONNECT (connect-codec.ts)
    const fast = decodeDataPacket(bytes, settings.protocolVersion) ?? plainDisconnect(bytes, settings.protocolVersion) ?? decodeConnect(bytes);
    if (fast !== undefined) return fast;
    const parser = this.parser;
    parser.settings = settings;
    const outcome: Outcome = { extra: 0 };
    this.outcome = outcome;
    const left = parser.parse(bytes);
    const packet = outcome.packet;
    if (outcome.failure !== undefined || packet === undefined || left !== 0 || outcome.extra > 0) {
      this.parser = this.freshParser();
      throw new ProtocolError(ReasonCode.MalformedPacket, `malformed packet: ${outcome.failure ?? 'not exactly one packet'}`);
    }
    return packet;
  }

  private freshParser(): SettableParser {
    const parser = mqtt.parser({ protocolVersion: 4 }) as SettableParser;
    parser.on('packet', (packet: Packet) => {
      if (this.outcome.packet === undefined) this.outcome.packet = packet;
      else this.outcome.extra++;
    });
    parser.on('error', (err: unknown) => {
      this.outcome.failure ??= err instanceof Error ? err.message : String(err);
    });
    return parser;
  }
}

/** DISCONNECT with no reason code and no properties, the end of most sessions, as mqtt-packet decodes it. */
function plainDisconnect(bytes: Buffer, protocolVersion: number): IDisconnectPacket | undefined {
  if (bytes.length !== 2 || bytes[0] !== 0xe0 || bytes[1] !== 0) return undefined;
  const packet = { cmd: 'disconnect' as const, retain: false, qos: 0, dup: false, length: 0, topic: null, payload: null };
  return protocolVersion === 5 ? { ...packet, reasonCode: 0 } : packet;
}

/** The settings mqtt-packet would keep after this CONNECT: its level and bridge bit (not the whole packet). */
export function settingsAfterConnect(packet: Packet, current: DecoderSettings): DecoderSettings {
  if (packet.cmd !== 'connect') return current;
  // mqtt-packet marks a bridge's CONNECT (bit 7 of the level) with `bridgeMode`, which its types do not declare
  const bridge = 'bridgeMode' in packet && packet.bridgeMode === true;
  return { protocolVersion: packet.protocolVersion ?? current.protocolVersion, ...(bridge ? { bridgeMode: true } : {}) };
}

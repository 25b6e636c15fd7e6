// Hand-made MQTT bytes for hostile-input tests: mqtt-packet refuses to encode most invalid packets, so these
// helpers build them from their parts (MQTT 5.0 §1.5 data representation, §2.1 fixed header).

/** A Variable Byte Integer (§1.5.5). */
export function varInt(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return bytes;
}

/** A UTF-8 Encoded String (§1.5.4): two length bytes, then the text's UTF-8 or the given raw bytes. */
export function str(text: string | readonly number[]): number[] {
  const bytes = typeof text === 'string' ? [...Buffer.from(text, 'utf8')] : [...text];
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

/** A two-byte integer (§1.5.2). */
export function u16(value: number): number[] {
  return [value >> 8, value & 0xff];
}

/** A property block (§2.2.2): its length as a Variable Byte Integer, then the property bytes. */
export function props(...bytes: number[]): number[] {
  return [...varInt(bytes.length), ...bytes];
}

/** A whole packet: the first byte (type and flags), the Remaining Length of `body`, then `body`. */
export function frame(first: number, body: readonly number[]): Uint8Array {
  return Uint8Array.from([first, ...varInt(body.length), ...body]);
}

/** Fixed-header first bytes (type << 4 | flags) of well-formed packets. */
export const First = {
  connect: 0x10,
  connack: 0x20,
  publishQos0: 0x30,
  publishQos1: 0x32,
  publishQos2: 0x34,
  pubrel: 0x62,
  subscribe: 0x82,
  suback: 0x90,
  unsubscribe: 0xa2,
  pingreq: 0xc0,
  pingresp: 0xd0,
  disconnect: 0xe0,
  auth: 0xf0,
} as const;

export interface RawConnect {
  /** Protocol Level byte: 4 (3.1.1) or 5 unless testing an unknown one. */
  readonly level?: number;
  /** Connect Flags byte; default 0x02 (clean start). */
  readonly flags?: number;
  /** v5 CONNECT properties, raw (use `props`); default an empty block when level is 5. */
  readonly properties?: readonly number[];
  readonly clientId?: string;
  /** Payload fields after the client id (will properties, will topic, …), raw. */
  readonly tail?: readonly number[];
}

/** A CONNECT packet built field by field (§3.1). */
export function rawConnect(fields: RawConnect = {}): Uint8Array {
  const level = fields.level ?? 4;
  const properties = fields.properties ?? (level === 5 ? props() : []);
  const body = [
    ...str('MQTT'),
    level,
    fields.flags ?? 0x02,
    ...u16(0), // keepalive
    ...properties,
    ...str(fields.clientId ?? 'raw'),
    ...(fields.tail ?? []),
  ];
  return frame(First.connect, body);
}

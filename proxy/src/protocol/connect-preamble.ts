// The protocol level a connection's CONNECT declares, read from its first bytes before the packet parser sees
// them. The parser (mqtt-packet) refuses an unknown level with a generic error and reports a malformed CONNECT
// without saying which version it was, so without this neither the CONNACK that [MQTT-3.1.2-2] asks for nor a v5
// CONNACK carrying a reason code could be sent.

const CONNECT_FIRST_BYTE = 0x10;
/** "MQTT" (3.1.1, 5.0) and "MQIsdp" (3.1), as bytes. */
const PROTOCOL_NAMES: readonly (readonly number[])[] = [
  [0x4d, 0x51, 0x54, 0x54],
  [0x4d, 0x51, 0x49, 0x73, 0x64, 0x70],
];
/** Enough bytes to reach the level: fixed header (1 + up to 4), name length (2), the longest name (6), level. */
export const CONNECT_PREAMBLE_BYTES = 14;

/**
 * The Protocol Level byte of a CONNECT from the first bytes of a connection: 'more' while they are not enough,
 * undefined when they are not a CONNECT with a known protocol name (the parser reports what is wrong then).
 */
export function connectProtocolLevel(bytes: Uint8Array): number | 'more' | undefined {
  if (bytes.length === 0) return 'more';
  if (bytes[0] !== CONNECT_FIRST_BYTE) return undefined;
  let offset = 1;
  for (;;) {
    const lengthByte = bytes[offset];
    if (lengthByte === undefined) return 'more';
    offset += 1;
    if ((lengthByte & 0x80) === 0) break;
    if (offset > 4) return undefined; // a Remaining Length longer than 4 bytes: FrameGuard reports it
  }
  const high = bytes[offset];
  const low = bytes[offset + 1];
  if (high === undefined || low === undefined) return 'more';
  const name = PROTOCOL_NAMES.find((candidate) => candidate.length === high * 256 + low);
  if (name === undefined) return undefined;
  offset += 2;
  for (const [i, expected] of name.entries()) {
    const actual = bytes[offset + i];
    if (actual === undefined) return 'more';
    if (actual !== expected) return undefined;
  }
  return bytes[offset + name.length] ?? 'more';
}

import type { Packet } from 'mqtt-packet';
import { ProtocolError } from '../errors.js';
import { ReasonCode } from './reason-codes.js';

/** Properties that may appear more than once in a packet (MQTT 5 §2.2.2.2). */
const REPEATABLE = new Set(['userProperties', 'subscriptionIdentifier']);

/**
 * Checks what mqtt-packet lets through: it decodes a property given twice as an array and one it cannot read
 * as null, and it reads a packet identifier the packet does not hold as -1. Handlers then see only well-formed
 * values.
 */
export function checkDecodedPacket(packet: Packet): void {
  checkProperties('properties' in packet ? packet.properties : undefined);
  if (packet.cmd === 'connect') checkProperties(packet.will?.properties);
  if (needsPacketId(packet)) {
    const id = packet.messageId;
    // [MQTT-2.2.1-3] a non-zero 16-bit packet identifier; a packet too short to hold one is malformed
    if (id === undefined || !Number.isInteger(id) || id < 0 || id > 65_535) {
      throw new ProtocolError(ReasonCode.MalformedPacket, `${packet.cmd} without a valid packet identifier`);
    }
  }
}

function needsPacketId(packet: Packet): boolean {
  switch (packet.cmd) {
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
    case 'subscribe':
    case 'unsubscribe':
      return true;
    case 'publish':
      return packet.qos > 0;
    default:
      return false;
  }
}

function checkProperties(properties: object | undefined): void {
  if (properties === undefined) return;
  for (const [name, value] of Object.entries(properties)) {
    if (value === null) throw new ProtocolError(ReasonCode.MalformedPacket, `property ${name} cannot be decoded`);
    // MQTT 5 §2.2.2.2: "It is a Protocol Error to include [a property] more than once"
    if (Array.isArray(value) && !REPEATABLE.has(name)) {
      throw new ProtocolError(ReasonCode.ProtocolError, `property ${name} given more than once`);
    }
  }
}

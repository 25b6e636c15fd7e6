import type { IPubrelPacket } from 'mqtt-packet';
import type { ClientHandler } from '../client-handler.js';
import { ReasonCode } from '../reason-codes.js';

/**
 * PUBREL: the client releases an inbound QoS 2 message; the flow ends with PUBCOMP [MQTT-4.3.3-11]. The
 * message itself was stored when it arrived, so nothing is published here. An unknown identifier gets
 * PUBCOMP 0x92 in v5.
 */
export function handlePubrel(client: ClientHandler, packet: IPubrelPacket): undefined {
  const packetId = packet.messageId ?? 0;
  const known = client.session?.qos2In.delete(packetId) ?? false;
  const reply = client.replies.reserve();
  if (client.isV5 && !known) reply({ cmd: 'pubcomp', messageId: packetId, reasonCode: ReasonCode.PacketIdentifierNotFound });
  else reply({ cmd: 'pubcomp', messageId: packetId });
  return undefined;
}

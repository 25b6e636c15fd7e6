import type { IPubackPacket, IPubcompPacket, IPubrecPacket } from 'mqtt-packet';
import type { ClientHandler } from '../client-handler.js';

// Acknowledgements of messages this server sent. An identifier the session does not know is ignored: it can be
// a late duplicate of an acknowledgement already processed.

/** PUBACK: a QoS 1 delivery is complete [MQTT-4.3.2-?]. */
export function handlePuback(client: ClientHandler, packet: IPubackPacket): undefined {
  if (packet.messageId !== undefined) client.session?.outbound.acknowledge(packet.messageId);
  return undefined;
}

/** PUBREC: a QoS 2 delivery was received; answer PUBREL [MQTT-4.3.3-4]. A failure reason code ends the flow. */
export function handlePubrec(client: ClientHandler, packet: IPubrecPacket): undefined {
  if (packet.messageId !== undefined) client.session?.outbound.received(packet.messageId, (packet.reasonCode ?? 0) >= 0x80);
  return undefined;
}

/** PUBCOMP: a QoS 2 delivery is complete. */
export function handlePubcomp(client: ClientHandler, packet: IPubcompPacket): undefined {
  if (packet.messageId !== undefined) client.session?.outbound.completed(packet.messageId);
  return undefined;
}

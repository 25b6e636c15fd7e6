import type { IDisconnectPacket } from 'mqtt-packet';
import { ProtocolError } from '../../errors.js';
import type { ClientHandler } from '../client-handler.js';
import { ReasonCode } from '../reason-codes.js';

/**
 * DISCONNECT from the client: a normal close discards the will [MQTT-3.14.4-3] unless v5 reason 0x04 asks
 * for it; a v5 client may change its session expiry, but not from 0 [MQTT-3.14.2-2].
 */
export function handleDisconnect(client: ClientHandler, packet: IDisconnectPacket): undefined {
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined && client.session !== undefined) {
    if (client.session.expiryIntervalSeconds === 0 && expiry > 0) {
      throw new ProtocolError(ReasonCode.ProtocolError, 'session expiry interval cannot be set after CONNECT set 0');
    }
    client.session.expiryIntervalSeconds = expiry;
    client.persistent = expiry > 0;
  }
  if (packet.reasonCode !== ReasonCode.DisconnectWithWill) client.will = undefined;
  client.disconnectedNormally();
  return undefined;
}

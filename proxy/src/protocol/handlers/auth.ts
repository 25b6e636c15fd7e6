import type { IAuthPacket } from 'mqtt-packet';
import { ProtocolError } from '../../errors.js';
import type { ClientHandler } from '../client-handler.js';
import { ReasonCode } from '../reason-codes.js';

/**
 * AUTH: enhanced authentication is not offered, so no CONNECT was accepted with an Authentication Method and any
 * AUTH packet is a protocol error [MQTT-4.12.0-1].
 */
export function handleAuth(_client: ClientHandler, _packet: IAuthPacket): never {
  throw new ProtocolError(ReasonCode.ProtocolError, 'AUTH without an authentication method');
}

import type { ClientHandler } from '../client-handler.js';

/** PINGREQ: answer PINGRESP [MQTT-3.12.4-1]. */
export function handlePingreq(client: ClientHandler): undefined {
  client.conn.send({ cmd: 'pingresp' });
  return undefined;
}

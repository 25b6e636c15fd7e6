import type { Packet } from 'mqtt-packet';
import { ProtocolError } from '../../errors.js';
import type { ClientHandler } from '../client-handler.js';
import { checkDecodedPacket } from '../packet-checks.js';
import { ReasonCode } from '../reason-codes.js';
import { handleAuth } from './auth.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handlePuback, handlePubcomp, handlePubrec } from './outbound-acks.js';
import { handlePingreq } from './pingreq.js';
import { handlePublish } from './publish.js';
import { handlePubrel } from './pubrel.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

/** Routes a packet to its handler; the switch is exhaustive over mqtt-packet's packet types. */
export function dispatchPacket(client: ClientHandler, packet: Packet): Promise<void> | undefined {
  checkDecodedPacket(packet);
  if (packet.cmd === 'connect') return handleConnect(client, packet);
  // [MQTT-3.1.0-1] the first packet must be CONNECT
  if (client.state !== 'connected') throw new ProtocolError(ReasonCode.ProtocolError, `${packet.cmd} before CONNECT`);
  switch (packet.cmd) {
    case 'publish':
      return handlePublish(client, packet);
    case 'puback':
      handlePuback(client, packet);
      return undefined;
    case 'pubrec':
      handlePubrec(client, packet);
      return undefined;
    case 'pubrel':
      handlePubrel(client, packet);
      return undefined;
    case 'pubcomp':
      handlePubcomp(client, packet);
      return undefined;
    case 'subscribe':
      return handleSubscribe(client, packet);
    case 'unsubscribe':
      return handleUnsubscribe(client, packet);
    case 'pingreq':
      handlePingreq(client);
      return undefined;
    case 'disconnect':
      handleDisconnect(client, packet);
      return undefined;
    case 'auth':
      return handleAuth(client, packet);
    case 'connack':
    case 'suback':
    case 'unsuback':
    case 'pingresp':
      // server-to-client packets are a protocol violation when a client sends them
      throw new ProtocolError(ReasonCode.ProtocolError, `a client must not send ${packet.cmd}`);
    default:
      return assertNever(packet);
  }
}

function assertNever(packet: never): never {
  throw new ProtocolError(ReasonCode.MalformedPacket, `unknown packet ${JSON.stringify(packet)}`);
}

import type { IUnsubscribePacket } from 'mqtt-packet';
import { ProtocolError } from '../../errors.js';
import type { ClientHandler } from '../client-handler.js';
import { ReasonCode } from '../reason-codes.js';
import { parseSharedSubscription, validateTopicFilter } from '../topics.js';

/** UNSUBSCRIBE: removes each filter; v5 UNSUBACK says per filter whether one existed [MQTT-3.11.3-1]. */
export function handleUnsubscribe(client: ClientHandler, packet: IUnsubscribePacket): undefined {
  const session = client.session;
  if (session === undefined) throw new ProtocolError(ReasonCode.ProtocolError, 'UNSUBSCRIBE without a session');
  const codes = packet.unsubscriptions.map((topicFilter) => {
    try {
      validateTopicFilter(parseSharedSubscription(topicFilter)?.filter ?? topicFilter, client.ctx.limits);
    } catch (err: unknown) {
      if (err instanceof ProtocolError) return ReasonCode.TopicFilterInvalid;
      throw err;
    }
    return session.unsubscribe(topicFilter) ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted;
  });
  const reply = client.replies.reserve();
  if (client.isV5) reply({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: codes });
  else reply({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] });
  return undefined;
}

import type { IUnsubscribePacket } from 'mqtt-packet';
import { ProtocolError } from '../../errors.js';
import type { ClientHandler } from '../client-handler.js';
import { ReasonCode } from '../reason-codes.js';
import { parseSharedSubscription, validateTopicFilter } from '../topics.js';
import { storeUnsubscribed } from './subscription-store.js';

/** UNSUBSCRIBE: removes each filter; v5 UNSUBACK says per filter whether one existed [MQTT-3.11.3-1]. */
export function handleUnsubscribe(client: ClientHandler, packet: IUnsubscribePacket): Promise<void> {
  const session = client.session;
  if (session === undefined) throw new ProtocolError(ReasonCode.ProtocolError, 'UNSUBSCRIBE without a session');
  if (packet.unsubscriptions.length === 0) {
    throw new ProtocolError(ReasonCode.ProtocolError, 'UNSUBSCRIBE without a topic filter'); // [MQTT-3.10.3-2]
  }
  const removed: string[] = [];
  const codes = packet.unsubscriptions.map((topicFilter) => {
    try {
      validateTopicFilter(parseSharedSubscription(topicFilter)?.filter ?? topicFilter, client.ctx.limits);
    } catch (err: unknown) {
      // a filter refused as such is answered per filter; a malformed one (ill-formed UTF-8) ends the connection
      if (err instanceof ProtocolError && err.reasonCode === ReasonCode.TopicFilterInvalid) return err.reasonCode;
      throw err;
    }
    if (!session.unsubscribe(topicFilter)) return ReasonCode.NoSubscriptionExisted;
    removed.push(topicFilter);
    return ReasonCode.Success;
  });
  const reply = client.replies.reserve();
  // UNSUBACK once the stored session no longer holds them
  return storeUnsubscribed(client, removed).then(() => {
    if (client.isV5) reply({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: codes });
    else reply({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] });
  });
}

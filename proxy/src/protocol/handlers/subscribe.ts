import type { ISubscribePacket, ISubscription } from 'mqtt-packet';
import { receivable, subscribeAllowed } from '../../auth/enforcement.js';
import { ProtocolError } from '../../errors.js';
import type { SubscriptionRecord } from '../../sessions/session-store.js';
import type { ClientHandler } from '../client-handler.js';
import { ReasonCode, SubackFailure311 } from '../reason-codes.js';
import type { Session } from '../session.js';
import { parseSharedSubscription, validateTopicFilter } from '../topics.js';
import { storeSubscribed } from './subscription-store.js';

/** Largest Subscription Identifier (a Variable Byte Integer) [MQTT-3.8.2-?]. */
const MAX_SUBSCRIPTION_ID = 268_435_455;

/** Validates one requested subscription and turns it into a record, or the reason code refusing it. */
function toRecord(client: ClientHandler, request: ISubscription, subscriptionId: number | undefined): SubscriptionRecord | number {
  try {
    const shared = parseSharedSubscription(request.topic);
    validateTopicFilter(shared?.filter ?? request.topic, client.ctx.limits);
    if (shared !== undefined && request.nl === true) {
      // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error
      throw new ProtocolError(ReasonCode.ProtocolError, 'No Local set on a shared subscription');
    }
  } catch (err: unknown) {
    if (err instanceof ProtocolError && err.reasonCode === ReasonCode.TopicFilterInvalid) return err.reasonCode;
    throw err;
  }
  if (!subscribeAllowed(client, request.topic)) return ReasonCode.NotAuthorized;
  const session = client.session;
  const limit = client.ctx.limits.maxSubscriptionsPerSession;
  if (session !== undefined && !session.subscriptions.has(request.topic) && session.subscriptions.size >= limit) {
    return ReasonCode.QuotaExceeded;
  }
  return {
    topicFilter: request.topic,
    qos: request.qos,
    ...optionsOf(client, request),
    ...(subscriptionId === undefined ? {} : { subscriptionId }),
  };
}

/** The v5 subscription options of a request (MQTT 5 §3.8.3.1); a v3.1.1 subscription has none. */
function optionsOf(client: ClientHandler, request: ISubscription): Pick<SubscriptionRecord, 'noLocal' | 'retainAsPublished' | 'retainHandling'> {
  if (!client.isV5) return { noLocal: false, retainAsPublished: false, retainHandling: 0 };
  return { noLocal: request.nl === true, retainAsPublished: request.rap === true, retainHandling: (request.rh ?? 0) as 0 | 1 | 2 };
}

/** Sends the retained messages matching a new subscription, after the SUBACK. */
function sendRetained(client: ClientHandler, session: Session, topicFilter: string): void {
  const shared = parseSharedSubscription(topicFilter);
  if (shared !== undefined) return;
  client.ctx.router
    .readRetained(topicFilter)
    .then((messages) => {
      for (const message of receivable(client, messages)) session.deliverRetained(topicFilter, message);
    })
    .catch((err: unknown) => client.ctx.log.warn({ err, clientId: client.clientId }, 'retained messages not read'));
}

/**
 * SUBSCRIBE: each filter is validated on its own and answered with its own code in SUBACK [MQTT-3.8.4-6];
 * a repeated filter replaces the subscription [MQTT-3.8.4-3]; retained messages follow per Retain Handling.
 */
export function handleSubscribe(client: ClientHandler, packet: ISubscribePacket): Promise<void> {
  const session = client.session;
  if (session === undefined) throw new ProtocolError(ReasonCode.ProtocolError, 'SUBSCRIBE without a session');
  if (packet.subscriptions.length === 0) {
    throw new ProtocolError(ReasonCode.ProtocolError, 'SUBSCRIBE without a topic filter'); // [MQTT-3.8.3-2]
  }
  const subscriptionId = client.isV5 ? packet.properties?.subscriptionIdentifier : undefined;
  if (subscriptionId !== undefined && (subscriptionId < 1 || subscriptionId > MAX_SUBSCRIPTION_ID)) {
    throw new ProtocolError(ReasonCode.ProtocolError, 'subscription identifier out of range');
  }
  const codes: number[] = [];
  const retainedFor: string[] = [];
  const registered: Promise<void>[] = [];
  const added: SubscriptionRecord[] = [];
  for (const request of packet.subscriptions) {
    const record = toRecord(client, request, subscriptionId);
    if (typeof record === 'number') {
      codes.push(client.isV5 ? record : SubackFailure311);
      continue;
    }
    const { sendRetained: wantsRetained, ready } = session.subscribe(record);
    registered.push(ready);
    added.push(record);
    if (wantsRetained) retainedFor.push(record.topicFilter);
    codes.push(record.qos); // granted QoS = requested: every QoS is supported
  }
  const reply = client.replies.reserve();
  // SUBACK once the shards registered the subscriptions (what is published after it is delivered) and a
  // persistent session stored them
  return Promise.all(registered)
    .then(() => storeSubscribed(client, added))
    .then(() => {
      reply({ cmd: 'suback', messageId: packet.messageId ?? 0, granted: codes });
      for (const topicFilter of retainedFor) sendRetained(client, session, topicFilter);
    });
}

import type { IPublishPacket, Packet } from 'mqtt-packet';
import type { ForwardedProperties, Message } from '../../backend/message.js';
import { ProtocolError } from '../../errors.js';
import type { ClientHandler } from '../client-handler.js';
import { ReasonCode } from '../reason-codes.js';
import { validateTopicName } from '../topics.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The v5 properties of a PUBLISH that travel with the message to subscribers [MQTT-3.3.2-4] and friends. */
export function forwardedProperties(properties: IPublishPacket['properties']): ForwardedProperties | undefined {
  if (properties === undefined) return undefined;
  const { payloadFormatIndicator, contentType, responseTopic, correlationData, userProperties } = properties;
  const forwarded: ForwardedProperties = {
    ...(payloadFormatIndicator === undefined ? {} : { payloadFormatIndicator }),
    ...(contentType === undefined ? {} : { contentType }),
    ...(responseTopic === undefined ? {} : { responseTopic }),
    ...(correlationData === undefined ? {} : { correlationData }),
    ...(userProperties === undefined ? {} : { userProperties }),
  };
  return Object.keys(forwarded).length === 0 ? undefined : forwarded;
}

function toMessage(client: ClientHandler, packet: IPublishPacket, topic: string): Message {
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  const properties = client.isV5 ? forwardedProperties(packet.properties) : undefined;
  if (properties?.payloadFormatIndicator === true) {
    try {
      utf8.decode(payload);
    } catch {
      // [MQTT-3.3.2-?] Payload Format Indicator 1 promises UTF-8
      throw new PayloadError(ReasonCode.PayloadFormatInvalid, 'payload is not valid UTF-8');
    }
  }
  if (properties?.responseTopic !== undefined) validateTopicName(properties.responseTopic, client.ctx.limits);
  const expiry = client.isV5 ? packet.properties?.messageExpiryInterval : undefined;
  return {
    topic,
    payload,
    qos: packet.qos,
    retain: packet.retain,
    ...(properties === undefined ? {} : { properties }),
    ...(expiry === undefined ? {} : { expiresAtMs: client.ctx.clock.now() + expiry * 1000 }),
    originClientId: client.clientId,
  };
}

/** A problem with one message that the v5 acknowledgement can report without closing the connection. */
class PayloadError extends ProtocolError {}

/**
 * PUBLISH from a client. QoS 0 is sent on at once; QoS 1 gets PUBACK and QoS 2 PUBREC only after the owning
 * shard's JetStream stored the message, in arrival order [MQTT-4.6.0-2]. A re-sent QoS 2 PUBLISH whose message is
 * already stored is acknowledged without storing it again [MQTT-4.3.3-?], which makes QoS 2 exactly once.
 */
export function handlePublish(client: ClientHandler, packet: IPublishPacket): Promise<void> | undefined {
  const { ctx } = client;
  const alias = client.isV5 ? packet.properties?.topicAlias : undefined;
  const topic = client.inboundAliases.resolve(packet.topic, alias);
  validateTopicName(topic, ctx.limits); // [MQTT-3.3.2-2]
  if (packet.qos > 0) {
    // [MQTT-3.3.4-9] more unacknowledged QoS > 0 PUBLISHes than the Receive Maximum we announced
    if (client.inboundPending >= ctx.limits.receiveMaximum) {
      throw new ProtocolError(ReasonCode.ReceiveMaximumExceeded, 'receive maximum exceeded');
    }
  }
  let message: Message;
  try {
    message = toMessage(client, packet, topic);
  } catch (err: unknown) {
    if (err instanceof PayloadError && client.isV5 && packet.qos > 0) {
      const reply = client.replies.reserve();
      reply({ cmd: packet.qos === 1 ? 'puback' : 'pubrec', messageId: packet.messageId ?? 0, reasonCode: err.reasonCode });
      return undefined;
    }
    throw err;
  }
  if (packet.qos === 0) {
    ctx.metrics.published(0);
    ctx.router.publish(message).catch(() => ctx.metrics.publishFailed(0));
    return undefined;
  }
  return storeAndAcknowledge(client, packet, message);
}

async function storeAndAcknowledge(client: ClientHandler, packet: IPublishPacket, message: Message): Promise<void> {
  const { ctx, session } = client;
  const packetId = packet.messageId ?? 0;
  const ackType = packet.qos === 1 ? 'puback' : 'pubrec';
  let messageId: string | undefined;
  if (packet.qos === 2) {
    messageId = session?.qos2In.get(packetId);
    if (messageId !== undefined && !packet.dup) {
      // a new message reusing an identifier whose flow is open: store it under a new id
      messageId = undefined;
    }
  }
  messageId ??= ctx.nextMessageId();
  const reply = client.replies.reserve();
  client.inboundPending += 1;
  try {
    await ctx.router.publish(message, { messageId });
    ctx.metrics.published(packet.qos);
    if (packet.qos === 2) session?.qos2In.set(packetId, messageId);
    reply({ cmd: ackType, messageId: packetId } as Packet);
  } catch (err: unknown) {
    ctx.metrics.publishFailed(packet.qos);
    if (!client.isV5) throw err; // v3 cannot refuse a message: close, the client sends it again
    ctx.log.warn({ err, clientId: client.clientId }, 'publish not stored');
    reply({ cmd: ackType, messageId: packetId, reasonCode: ReasonCode.UnspecifiedError } as Packet);
  } finally {
    client.inboundPending -= 1;
  }
}

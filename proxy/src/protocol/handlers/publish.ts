import type { IPublishPacket } from 'mqtt-packet';
import { publishRefused } from '../../auth/enforcement.js';
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
  // the common case in one object, without the spreads below
  if (properties === undefined && expiry === undefined) return { topic, payload, qos: packet.qos, retain: packet.retain, originClientId: client.clientId };
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

/** Fields a client's PUBLISH must not carry. */
function checkPacketFields(client: ClientHandler, packet: IPublishPacket): void {
  if (packet.qos > 0 && packet.messageId === 0) {
    throw new ProtocolError(ReasonCode.ProtocolError, 'packet identifier 0'); // [MQTT-2.2.1-3]
  }
  if (client.isV5 && packet.properties?.subscriptionIdentifier !== undefined) {
    throw new ProtocolError(ReasonCode.ProtocolError, 'subscription identifier on a PUBLISH from a client'); // [MQTT-3.3.4-6]
  }
}

/**
 * Whether a PUBLISH belongs to a QoS 2 flow still open (PUBREC sent, PUBREL not yet received); any other QoS 1/2
 * PUBLISH is checked against the Receive Maximum first.
 */
function isOpenQos2Flow(client: ClientHandler, packet: IPublishPacket): boolean {
  const qos2In = client.session?.qos2In;
  if (packet.qos === 2 && qos2In?.has(packet.messageId ?? 0) === true) return true;
  // [MQTT-3.3.4-9] a v5 client must not exceed the Receive Maximum we announced. Stores in flight never exceed it
  // (ClientHandler holds further PUBLISHes back and pauses reading), so what counts here is QoS 2 flows waiting
  // for PUBREL, which count until PUBCOMP [MQTT-3.3.4-7] (MQTT 5 §4.9). Common clients (MQTT.js) pipeline without
  // counting; they are slowed down by the hold, and only a client twice over the limit is cut off.
  const unacknowledged = client.inboundPending + (qos2In?.size ?? 0);
  if (packet.qos > 0 && client.isV5 && unacknowledged >= 2 * client.ctx.limits.receiveMaximum) {
    throw new ProtocolError(ReasonCode.ReceiveMaximumExceeded, 'receive maximum exceeded');
  }
  return false;
}

/** The acknowledgement of a QoS 1 (PUBACK) or QoS 2 (PUBREC) PUBLISH, before any reason code. */
function ackOf(packet: IPublishPacket): { cmd: 'puback' | 'pubrec'; messageId: number } {
  return { cmd: packet.qos === 1 ? 'puback' : 'pubrec', messageId: packet.messageId ?? 0 };
}

/** A problem with one message that the v5 acknowledgement can report without closing the connection. */
class PayloadError extends ProtocolError {}

/**
 * PUBLISH from a client. QoS 0 is sent on at once; QoS 1 gets PUBACK and QoS 2 PUBREC only after the owning
 * shard's JetStream stored the message, in arrival order [MQTT-4.6.0-2]. A QoS 2 PUBLISH whose flow is open (its
 * message stored, PUBREL not yet received) is acknowledged without storing it again [MQTT-4.3.3-10], which makes
 * QoS 2 exactly once.
 */
export function handlePublish(client: ClientHandler, packet: IPublishPacket): Promise<void> | undefined {
  const { ctx } = client;
  const alias = client.isV5 ? packet.properties?.topicAlias : undefined;
  const topic = client.inboundAliases.resolve(packet.topic, alias);
  validateTopicName(topic, ctx.limits); // [MQTT-3.3.2-2]
  checkPacketFields(client, packet);
  if (isOpenQos2Flow(client, packet)) {
    // answered again, never stored twice [MQTT-4.3.3-10]
    client.replies.reserve()({ cmd: 'pubrec', messageId: packet.messageId ?? 0 });
    return undefined;
  }
  if (publishRefused(client, packet, topic)) return undefined;
  let message: Message;
  try {
    message = toMessage(client, packet, topic);
  } catch (err: unknown) {
    if (err instanceof PayloadError && client.isV5 && packet.qos > 0) {
      const reply = client.replies.reserve();
      reply({ ...ackOf(packet), reasonCode: err.reasonCode });
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

/**
 * Stores a QoS 1/2 message and acknowledges it once stored. Written with `then` rather than as an async function:
 * every QoS 1 PUBLISH comes through here, and an async frame with try/catch/finally is its largest allocation.
 */
function storeAndAcknowledge(client: ClientHandler, packet: IPublishPacket, message: Message): Promise<void> {
  const { ctx, session } = client;
  // QoS 2 only: a re-sent PUBLISH of an open flow is stored under the same id, which JetStream's duplicate window
  // removes. QoS 1 is at least once; an id would only cost each shard a de-duplication entry per message (for the
  // whole window) that nothing ever matches: a client's re-send is a new message with a new id.
  const messageId = packet.qos === 2 ? ctx.nextMessageId() : undefined;
  const reply = client.replies.reserve();
  client.inboundPending += 1;
  let stored: Promise<void>;
  try {
    stored = ctx.router.publish(message, messageId === undefined ? undefined : { messageId });
  } catch (err: unknown) {
    stored = Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return stored.then(
    () => {
      try {
        ctx.metrics.published(packet.qos);
        if (messageId !== undefined) session?.qos2In.set(packet.messageId ?? 0, messageId);
        reply(ackOf(packet));
      } catch (err: unknown) {
        refuse(client, packet, reply, err);
      } finally {
        settle(client);
      }
    },
    (err: unknown) => {
      try {
        refuse(client, packet, reply, err);
      } finally {
        settle(client);
      }
    },
  );
}

/** The message was not stored: v5 gets the reason code, v3 cannot refuse a message (the connection closes). */
function refuse(client: ClientHandler, packet: IPublishPacket, reply: ReturnType<ClientHandler['replies']['reserve']>, err: unknown): void {
  const { ctx } = client;
  ctx.metrics.publishFailed(packet.qos);
  if (!client.isV5) throw err; // the client sends it again on its next connection
  ctx.log.warn({ err, clientId: client.clientId }, 'publish not stored');
  // 0x80, not 0x97 Quota Exceeded: the client is within every quota; the owning shard did not store the message
  const properties = client.problemInformation ? { properties: { reasonString: 'message not stored' } } : {};
  reply({ ...ackOf(packet), reasonCode: ReasonCode.UnspecifiedError, ...properties });
}

function settle(client: ClientHandler): void {
  client.inboundPending -= 1;
  client.storeSettled();
}

import type { IPublishPacket } from 'mqtt-packet';
import type { ForwardedProperties } from '../backend/message.js';
import type { Connection } from './connection.js';
import type { OutboundMessage, OutboundSender, SendResult } from './outbound-flow.js';
import { OutboundTopicAliases } from './topic-aliases.js';

/** A Buffer view of bytes without copying them. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

type PublishProperties = NonNullable<IPublishPacket['properties']>;

/** The properties a delivery carries unchanged from the PUBLISH [MQTT-3.3.2-4] [MQTT-3.3.2-15..17] [MQTT-3.3.2-20]. */
function forwardedProperties(forwarded: ForwardedProperties | undefined): PublishProperties {
  if (forwarded === undefined) return {};
  const { payloadFormatIndicator, contentType, responseTopic, correlationData, userProperties } = forwarded;
  return {
    ...(payloadFormatIndicator === undefined ? {} : { payloadFormatIndicator }),
    ...(contentType === undefined ? {} : { contentType }),
    ...(responseTopic === undefined ? {} : { responseTopic }),
    ...(correlationData === undefined ? {} : { correlationData: asBuffer(correlationData) }),
    ...(userProperties === undefined ? {} : { userProperties }),
  };
}

/** The Subscription Identifier property: one number, or a list when the delivery carries several [MQTT-3.3.4-3]. */
function subscriptionIdentifiers(ids: readonly number[] | undefined): PublishProperties {
  if (ids === undefined || ids.length === 0) return {};
  return { subscriptionIdentifier: ids.length === 1 ? (ids[0] ?? 0) : [...ids] };
}

/** Writes a session's outbound PUBLISH and PUBREL packets to one connection, at its protocol version. */
export class PublishSender implements OutboundSender {
  /** Only for a client that allows topic aliases (v5 with a Topic Alias Maximum above 0). */
  private readonly aliases: OutboundTopicAliases | undefined;

  /** @param topicAliasMaximum the client's Topic Alias Maximum (0 for v3 clients). */
  constructor(
    private readonly conn: Connection,
    topicAliasMaximum: number,
  ) {
    this.aliases = topicAliasMaximum > 0 ? new OutboundTopicAliases(topicAliasMaximum) : undefined;
  }

  get writable(): boolean {
    return this.conn.writable;
  }

  publish(message: OutboundMessage, packetId: number | undefined, dup: boolean, messageExpiryInterval?: number): SendResult {
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: message.topic,
      payload: asBuffer(message.payload),
      qos: message.qos,
      dup: dup && message.qos > 0, // [MQTT-3.3.1-2] DUP is 0 for QoS 0
      retain: message.retain,
    };
    if (packetId !== undefined) packet.messageId = packetId;
    if (this.conn.protocolVersion !== 5) return this.conn.send(packet);

    const aliased = this.aliases?.apply(message.topic) ?? { topic: message.topic };
    packet.topic = aliased.topic;
    packet.properties = {
      ...forwardedProperties(message.properties),
      ...(messageExpiryInterval === undefined ? {} : { messageExpiryInterval }),
      ...(aliased.alias === undefined ? {} : { topicAlias: aliased.alias }),
      ...subscriptionIdentifiers(message.subscriptionIds),
    };
    const result = this.conn.send(packet);
    if (result === 'too-large' && aliased.alias !== undefined && aliased.topic !== '') this.aliases?.undo(message.topic);
    return result;
  }

  pubrel(packetId: number): SendResult {
    return this.conn.send({ cmd: 'pubrel', messageId: packetId });
  }
}

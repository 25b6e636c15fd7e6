import type { IPublishPacket } from 'mqtt-packet';
import type { Connection } from './connection.js';
import type { OutboundMessage, OutboundSender, SendResult } from './outbound-flow.js';
import { OutboundTopicAliases } from './topic-aliases.js';

/** A Buffer view of bytes without copying them. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Writes a session's outbound PUBLISH and PUBREL packets to one connection, at its protocol version. */
export class PublishSender implements OutboundSender {
  private readonly aliases: OutboundTopicAliases;

  /** @param topicAliasMaximum the client's Topic Alias Maximum (0 for v3 clients). */
  constructor(
    private readonly conn: Connection,
    topicAliasMaximum: number,
  ) {
    this.aliases = new OutboundTopicAliases(topicAliasMaximum);
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

    const aliased = this.aliases.apply(message.topic);
    packet.topic = aliased.topic;
    const forwarded = message.properties;
    packet.properties = {
      ...(forwarded?.payloadFormatIndicator === undefined ? {} : { payloadFormatIndicator: forwarded.payloadFormatIndicator }),
      ...(forwarded?.contentType === undefined ? {} : { contentType: forwarded.contentType }),
      ...(forwarded?.responseTopic === undefined ? {} : { responseTopic: forwarded.responseTopic }),
      ...(forwarded?.correlationData === undefined ? {} : { correlationData: asBuffer(forwarded.correlationData) }),
      ...(forwarded?.userProperties === undefined ? {} : { userProperties: forwarded.userProperties }),
      ...(messageExpiryInterval === undefined ? {} : { messageExpiryInterval }),
      ...(aliased.alias === undefined ? {} : { topicAlias: aliased.alias }),
      ...(message.subscriptionIds === undefined || message.subscriptionIds.length === 0
        ? {}
        : { subscriptionIdentifier: message.subscriptionIds.length === 1 ? (message.subscriptionIds[0] ?? 0) : [...message.subscriptionIds] }),
    };
    const result = this.conn.send(packet);
    if (result === 'too-large' && aliased.alias !== undefined && aliased.topic !== '') this.aliases.undo(message.topic);
    return result;
  }

  pubrel(packetId: number): SendResult {
    return this.conn.send({ cmd: 'pubrel', messageId: packetId });
  }
}

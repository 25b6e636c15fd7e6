import type { Connection } from './connection.js';
import type { OutboundMessage, OutboundSender, SendResult } from './outbound-flow.js';
import { blankOutboundPublish } from './publish-encoder.js';
import type { OutboundPublish } from './publish-encoder.js';
import { OutboundTopicAliases } from './topic-aliases.js';

const NO_PAYLOAD = Buffer.alloc(0);

/**
 * The delivery being encoded. Encoding is synchronous and the record is cleared after each one, so one record
 * serves every sender of the process: no object per message, and none per connection.
 */
const scratch: OutboundPublish = blankOutboundPublish();

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

  /**
   * The properties are written in the order mqtt-packet was given them before: the ones forwarded unchanged from
   * the PUBLISH [MQTT-3.3.2-4] [MQTT-3.3.2-15..17] [MQTT-3.3.2-20], the remaining expiry, the topic alias, the
   * Subscription Identifiers [MQTT-3.3.4-3].
   */
  publish(message: OutboundMessage, packetId: number | undefined, dup: boolean, messageExpiryInterval?: number): SendResult {
    const publish = scratch;
    publish.topic = message.topic;
    publish.payload = message.payload; // copied into the packet: no Buffer view made for it
    publish.qos = message.qos;
    publish.dup = dup && message.qos > 0; // [MQTT-3.3.1-2] DUP is 0 for QoS 0
    publish.retain = message.retain;
    publish.packetId = packetId;
    if (this.conn.protocolVersion !== 5) return this.send(publish);

    const aliased = this.aliases?.apply(message.topic);
    if (aliased !== undefined) publish.topic = aliased.topic;
    publish.forwarded = message.properties;
    publish.messageExpiryInterval = messageExpiryInterval;
    publish.topicAlias = aliased?.alias;
    publish.subscriptionIds = message.subscriptionIds;
    const result = this.send(publish);
    if (result === 'too-large' && aliased?.alias !== undefined && aliased.topic !== '') this.aliases?.undo(message.topic);
    return result;
  }

  /** Sends, then clears the record: it must not keep a message alive, nor give v5 fields to a v3 delivery. */
  private send(publish: OutboundPublish): SendResult {
    const result = this.conn.sendPublish(publish);
    publish.payload = NO_PAYLOAD;
    publish.forwarded = undefined;
    publish.subscriptionIds = undefined;
    publish.messageExpiryInterval = undefined;
    publish.topicAlias = undefined;
    return result;
  }

  pubrel(packetId: number): SendResult {
    return this.conn.send({ cmd: 'pubrel', messageId: packetId });
  }
}

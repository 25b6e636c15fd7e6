import { ProtocolError } from '../errors.js';
import { ReasonCode } from './reason-codes.js';

/** Topic aliases the client set on its PUBLISHes (MQTT 5 §3.3.2.3.4); a map per connection, made at the first alias. */
export class InboundTopicAliases {
  private topics: Map<number, string> | undefined;

  /** @param maximum the Topic Alias Maximum this server announced in CONNACK. */
  constructor(private readonly maximum: number) {}

  /**
   * Resolves the topic of a PUBLISH: records `alias → topic` when both are present, looks the alias up when
   * the topic is empty. Throws ProtocolError(TopicAliasInvalid / ProtocolError) as the spec names.
   */
  resolve(topic: string, alias: number | undefined): string {
    if (alias === undefined) {
      // [MQTT-3.3.4-?] a PUBLISH without alias must carry a topic name
      if (topic === '') throw new ProtocolError(ReasonCode.ProtocolError, 'PUBLISH without topic name or alias');
      return topic;
    }
    // [MQTT-3.3.2-8] [MQTT-3.3.2-9] alias 0 or above the announced maximum
    if (alias === 0 || alias > this.maximum) {
      throw new ProtocolError(ReasonCode.TopicAliasInvalid, `topic alias ${alias} outside 1..${this.maximum}`);
    }
    if (topic !== '') {
      (this.topics ??= new Map()).set(alias, topic);
      return topic;
    }
    const known = this.topics?.get(alias);
    if (known === undefined) throw new ProtocolError(ReasonCode.ProtocolError, `topic alias ${alias} was never set`);
    return known;
  }
}

/** For connections that may set no alias (v3, or a Topic Alias Maximum of 0): it never records one, so one serves all. */
export const NO_INBOUND_ALIASES = new InboundTopicAliases(0);

/** What to put on an outbound PUBLISH: the topic (possibly empty) and the alias, if any. */
export interface AliasedTopic {
  readonly topic: string;
  readonly alias?: number;
}

/**
 * Aliases this server assigns to topics it sends (MQTT 5 §3.3.2.3.4), within the client's Topic Alias Maximum.
 * The first `maximum` distinct topics get an alias; later ones are sent in full. An assignment whose PUBLISH
 * could not be written is taken back with `undo`, so the client never sees an alias it was not told about.
 */
export class OutboundTopicAliases {
  /** Made at the first alias (never for a client that allows none). */
  private aliases: Map<string, number> | undefined;

  /** @param maximum the client's Topic Alias Maximum from CONNECT (0 = no aliases) [MQTT-3.3.2-10]. */
  constructor(private readonly maximum: number) {}

  /** Chooses what to send for a topic. */
  apply(topic: string): AliasedTopic {
    if (this.maximum === 0) return { topic };
    const aliases = (this.aliases ??= new Map<string, number>());
    const known = aliases.get(topic);
    if (known !== undefined) return { topic: '', alias: known };
    if (aliases.size >= this.maximum) return { topic };
    const alias = aliases.size + 1;
    aliases.set(topic, alias);
    return { topic, alias };
  }

  /** Takes back the assignment `apply` just made for `topic` (only the most recent one can be taken back). */
  undo(topic: string): void {
    if (this.aliases !== undefined && this.aliases.get(topic) === this.aliases.size) this.aliases.delete(topic);
  }
}

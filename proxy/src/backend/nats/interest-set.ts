// The proxy's interests and the NATS subscriptions that serve them: for each interest, one subscription
// per subject of its filter on each shard the routing table names. Subscriptions are made when a shard's
// connection appears and dropped (without unsubscribing) when it closes; the NATS client itself restores
// them after a reconnect.
import type { NatsConnection, Msg, Subscription } from '@nats-io/transport-node';
import type { ShardSpec } from '../../routing/ring-document.js';
import { filterToSubjects, subjectToTopic } from '../../routing/subject-mapping.js';
import { interestId, type DeliveryHandler, type InterestKey } from '../message-backend.js';
import { decodeDelivered } from './message-headers.js';
import { liveSubject, queueGroupName, subjectOfLive } from './nats-names.js';
import { NatsWire } from './nats-wire.js';
import type { NatsLog, ShardLink } from './shard-pool.js';

export interface InterestSetOptions {
  /** The shard's connection, when it has one. */
  readonly links: (shardId: string) => ShardLink | undefined;
  readonly log: NatsLog;
  readonly metrics?: {
    messageReceived?(shardId: string): void;
    subscriptionsChanged?(count: number): void;
  };
}

interface Held {
  readonly nc: NatsConnection;
  readonly subscriptions: readonly Subscription[];
}

interface Interest {
  readonly key: InterestKey;
  readonly handler: DeliveryHandler;
  /** `mqtt.<subject>` for each subject of the filter. */
  readonly subjects: readonly string[];
  readonly queue: string | undefined;
  /** [MQTT-4.7.2-1]: a filter starting with a wildcard does not match topics starting with `$`. */
  readonly skipDollar: boolean;
  /** The one topic a filter without wildcards receives: no subject to read and convert per message. */
  readonly literalTopic: string | undefined;
  /** Shard ids the routing table names for the filter. */
  targets: ReadonlySet<string>;
  readonly held: Map<string, Held>;
}


export class InterestSet {
  private readonly interests = new Map<string, Interest>();
  private subscriptionCount = 0;
  /** Reads delivered messages' raw headers, per connection. */
  private readonly wires = new WeakMap<NatsConnection, NatsWire>();

  constructor(private readonly options: InterestSetOptions) {}

  /**
   * Starts an interest on `targets`; a second add with an equal key replaces the handler. Resolves once every
   * connected target shard has registered the subscriptions (a flush round trip), or after `flushTimeoutMs`:
   * the caller acknowledges a SUBSCRIBE only when messages published from then on will arrive.
   */
  add(key: InterestKey, handler: DeliveryHandler, targets: readonly ShardSpec[], flushTimeoutMs = 2_000): Promise<void> {
    this.remove(key);
    const interest: Interest = {
      key,
      handler,
      subjects: filterToSubjects(key.filter).map(liveSubject),
      queue: key.shareGroup === undefined ? undefined : queueGroupName(key.shareGroup, key.filter),
      skipDollar: key.filter.startsWith('+') || key.filter.startsWith('#'),
      literalTopic: literalTopicOf(key.filter),
      targets: new Set(targets.map((shard) => shard.id)),
      held: new Map(),
    };
    this.interests.set(interestId(key), interest);
    for (const shardId of interest.targets) this.attach(interest, shardId);
    const flushes = [...interest.held.values()].map((held) => held.nc.flush().catch(() => undefined));
    if (flushes.length === 0) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, flushTimeoutMs);
      timer.unref();
    });
    return Promise.race([Promise.all(flushes).then(() => undefined), timeout]).finally(() => clearTimeout(timer));
  }

  remove(key: InterestKey): void {
    const interest = this.interests.get(interestId(key));
    if (interest === undefined) return;
    this.interests.delete(interestId(key));
    for (const shardId of [...interest.held.keys()]) this.detach(interest, shardId);
  }

  /** Moves every interest to the shards `targetsOf` names now. */
  retarget(targetsOf: (filter: string) => readonly ShardSpec[]): void {
    for (const interest of this.interests.values()) {
      interest.targets = new Set(targetsOf(interest.key.filter).map((shard) => shard.id));
      for (const shardId of [...interest.held.keys()]) {
        if (!interest.targets.has(shardId)) this.detach(interest, shardId);
      }
      for (const shardId of interest.targets) this.attach(interest, shardId);
    }
  }

  /** A shard has a (new) connection: subscribe every interest that targets it and is not held on it. */
  shardConnected(shardId: string): void {
    for (const interest of this.interests.values()) {
      if (interest.targets.has(shardId)) this.attach(interest, shardId);
    }
  }

  /** A shard's connection is gone: its subscriptions died with it. */
  shardClosed(shardId: string): void {
    for (const interest of this.interests.values()) {
      const held = interest.held.get(shardId);
      if (held === undefined) continue;
      interest.held.delete(shardId);
      this.count(-held.subscriptions.length);
    }
  }

  /** Unsubscribes everything. */
  clear(): void {
    for (const interest of this.interests.values()) {
      for (const shardId of [...interest.held.keys()]) this.detach(interest, shardId);
    }
    this.interests.clear();
  }

  /** NATS subscriptions held, over all shards. */
  get size(): number {
    return this.subscriptionCount;
  }

  private count(delta: number): void {
    if (delta === 0) return;
    this.subscriptionCount += delta;
    this.options.metrics?.subscriptionsChanged?.(this.subscriptionCount);
  }

  private attach(interest: Interest, shardId: string): void {
    const link = this.options.links(shardId);
    if (link === undefined) return; // subscribed when the shard connects
    const held = interest.held.get(shardId);
    if (held !== undefined) {
      if (held.nc === link.nc) return;
      this.detach(interest, shardId);
    }
    const subscriptions: Subscription[] = [];
    let wire = this.wires.get(link.nc);
    if (wire === undefined) {
      wire = new NatsWire(link.nc);
      this.wires.set(link.nc, wire);
    }
    const reader = wire;
    try {
      for (const subject of interest.subjects) {
        subscriptions.push(
          link.nc.subscribe(subject, {
            ...(interest.queue === undefined ? {} : { queue: interest.queue }),
            callback: (error, msg) => this.deliver(interest, shardId, reader, error, msg),
          }),
        );
      }
    } catch (error) {
      for (const subscription of subscriptions) subscription.unsubscribe();
      this.options.log.warn({ err: error, shardId, filter: interest.key.filter }, 'cannot subscribe on shard');
      return;
    }
    interest.held.set(shardId, { nc: link.nc, subscriptions });
    this.count(subscriptions.length);
  }

  private detach(interest: Interest, shardId: string): void {
    const held = interest.held.get(shardId);
    if (held === undefined) return;
    interest.held.delete(shardId);
    for (const subscription of held.subscriptions) {
      try {
        subscription.unsubscribe();
      } catch {
        // the connection is closing; the subscription goes with it
      }
    }
    this.count(-held.subscriptions.length);
  }

  private deliver(interest: Interest, shardId: string, wire: NatsWire, error: Error | null, msg: Msg): void {
    if (error !== null) {
      this.options.log.warn({ err: error, shardId, filter: interest.key.filter }, 'subscription error');
      return;
    }
    const topic = interest.literalTopic ?? topicOf(msg.subject);
    if (topic === undefined) return;
    if (interest.skipDollar && topic.startsWith('$')) return; // [MQTT-4.7.2-1]
    this.options.metrics?.messageReceived?.(shardId);
    try {
      interest.handler(decodeDelivered(topic, msg.data, wire.headersOf(msg), shardId));
    } catch (handlerError) {
      this.options.log.error({ err: handlerError, shardId, filter: interest.key.filter }, 'delivery handler threw');
    }
  }
}

function topicOf(live: string): string | undefined {
  const subject = subjectOfLive(live);
  return subject === undefined ? undefined : subjectToTopic(subject);
}

/** The topic of the one subject a filter without wildcards maps to, as a message on it converts back. */
function literalTopicOf(filter: string): string | undefined {
  if (filter.includes('+') || filter.includes('#')) return undefined;
  const subjects = filterToSubjects(filter);
  const only = subjects.length === 1 ? subjects[0] : undefined;
  return only === undefined ? undefined : subjectToTopic(only);
}

import type { InterestKey } from '../backend/message-backend.js';
import type { DeliveredMessage, Message, QoS } from '../backend/message.js';
import { ReplayBuffer } from '../backend/replay-buffer.js';
import type { Clock } from '../clock.js';
import type { InflightRecord, Qos2InboundRecord, SessionCursors, SessionRecord, SubscriptionRecord } from '../sessions/session-store.js';
import { DeliveryCursors } from './delivery-cursors.js';
import { OutboundFlow, type DropReason, type MessageOrigin, type OutboundFlowOptions, type OutboundMessage, type OutboundSender } from './outbound-flow.js';
import type { LocalSubscriber, MessageRouter, ProtocolMetrics } from './ports.js';
import { parseSharedSubscription, topicMatchesFilter } from './topics.js';

/** One subscription of a live session, registered with the router while the session is connected. */
class ActiveSubscription implements LocalSubscriber {
  readonly key: InterestKey;
  /** First level is a wildcard: such a filter must not match `$` topics [MQTT-4.7.2-1]. */
  readonly leadingWildcard: boolean;
  /** What its deliveries carry as Subscription Identifiers [MQTT-3.3.4-3]: one list per subscription, not per message. */
  readonly subscriptionIds: readonly number[] | undefined;

  constructor(
    readonly record: SubscriptionRecord,
    private readonly session: Session,
  ) {
    const shared = parseSharedSubscription(record.topicFilter);
    this.key = shared === undefined ? { filter: record.topicFilter } : { filter: shared.filter, shareGroup: shared.group };
    this.leadingWildcard = this.key.filter.startsWith('+') || this.key.filter.startsWith('#');
    this.subscriptionIds = record.subscriptionId === undefined ? undefined : [record.subscriptionId];
  }

  get isShared(): boolean {
    return this.key.shareGroup !== undefined;
  }

  deliver(message: DeliveredMessage): void {
    this.session.deliverLive(this, message);
  }
}

export interface SessionDeps {
  readonly router: MessageRouter;
  readonly clock: Clock;
  readonly metrics: ProtocolMetrics;
  readonly inflightMax: number;
  readonly queueMax: number;
  /** Live messages held per shard while that shard's offline messages replay; beyond it the replay reads them. */
  readonly replayBufferMax: number;
}

/**
 * The state of one MQTT session while this proxy holds it: subscriptions, outbound delivery, inbound QoS 2
 * flows. Built from a stored SessionRecord on resume and turned back into one when its connection leaves.
 */
export class Session implements OutboundFlowOptions {
  // the two maps are made on first use: an idle session of a large fleet often has neither
  private subscriptionMap: Map<string, ActiveSubscription> | undefined;
  private qos2InMap: Map<number, string> | undefined;
  readonly outbound: OutboundFlow;
  /** Where offline delivery resumes, per shard. */
  cursors = new DeliveryCursors();
  /** Live messages of shards whose offline messages are replaying. */
  private heldForReplay: ReplayBuffer<ActiveSubscription> | undefined;
  private attached = false;

  constructor(
    readonly clientId: string,
    public expiryIntervalSeconds: number,
    private readonly deps: SessionDeps,
  ) {
    this.outbound = new OutboundFlow(this); // the session is its flow's options: no object and closures per session
  }

  /** Live messages of shards whose offline messages are replaying (made at the first replay). */
  get replayBuffer(): ReplayBuffer<ActiveSubscription> {
    return (this.heldForReplay ??= new ReplayBuffer(this.deps.replayBufferMax));
  }

  // OutboundFlowOptions, from the proxy-wide settings
  get inflightMax(): number {
    return this.deps.inflightMax;
  }

  get queueMax(): number {
    return this.deps.queueMax;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  /** OutboundFlowOptions: a message was not delivered. */
  onDrop(reason: DropReason, qos: QoS): void {
    this.deps.metrics.dropped(reason, qos);
  }

  /** OutboundFlowOptions: a stored message is done with; the offline cursor may move past it. */
  onSettled(origin: MessageOrigin): void {
    this.cursors.settled(origin.shardId, origin.sequence);
  }

  /** The subscriptions by topic filter. */
  get subscriptions(): Map<string, ActiveSubscription> {
    return (this.subscriptionMap ??= new Map());
  }

  /** Inbound QoS 2 packet id → the de-duplication id its message was stored under. */
  get qos2In(): Map<number, string> {
    return (this.qos2InMap ??= new Map());
  }

  /** The subscriptions, without making the map. */
  private get activeSubscriptions(): Iterable<ActiveSubscription> {
    return this.subscriptionMap?.values() ?? [];
  }

  /** Rebuilds a stored session. */
  static restore(record: SessionRecord, deps: SessionDeps): Session {
    const session = new Session(record.clientId, record.expiryIntervalSeconds, deps);
    for (const sub of record.subscriptions) session.subscriptions.set(sub.topicFilter, new ActiveSubscription(sub, session));
    for (const flow of record.qos2In) session.qos2In.set(flow.packetId, flow.messageId);
    session.outbound.restore(record.inflightOut);
    session.cursors = new DeliveryCursors(record.cursors);
    for (const { message } of record.inflightOut) {
      if (message.origin !== undefined) session.cursors.restoredInflight(message.origin.shardId, message.origin.sequence);
    }
    return session;
  }

  /** The session as stored between connections. */
  toRecord(protocolVersion: 3 | 4 | 5): SessionRecord {
    const qos2In: Qos2InboundRecord[] = [...(this.qos2InMap ?? [])].map(([packetId, messageId]) => ({ packetId, messageId }));
    const inflightOut: InflightRecord[] = this.outbound.snapshot();
    return {
      clientId: this.clientId,
      protocolVersion,
      expiryIntervalSeconds: this.expiryIntervalSeconds,
      subscriptions: [...this.activeSubscriptions].map((s) => s.record),
      inflightOut,
      qos2In,
      cursors: this.currentCursors(),
    };
  }

  /** The offline cursors to store now. */
  currentCursors(): SessionCursors {
    return this.cursors.snapshot((shardId) => this.deps.router.deliveredThrough(shardId));
  }

  /** The connection is attached (its subscriptions are live). */
  isAttached(): boolean {
    return this.attached;
  }

  /** The filters offline messages are replayed for: shared subscriptions are served by the other members. */
  replayFilters(): string[] {
    return [...this.activeSubscriptions].filter((sub) => !sub.isShared).map((sub) => sub.key.filter);
  }

  /**
   * Registers every subscription with the router (a resumed session's live delivery starts); resolves once the
   * shards confirmed them. Messages arriving before `attachOutbound` wait in the outbound queue.
   */
  async resubscribe(): Promise<void> {
    this.attached = true;
    await Promise.all([...this.activeSubscriptions].map((sub) => this.deps.router.attach(sub)));
  }

  /** Starts outbound delivery on a connection (after CONNACK): unacknowledged messages go again, then the queue. */
  attachOutbound(sender: OutboundSender, clientReceiveMaximum: number): void {
    this.outbound.attach(sender, clientReceiveMaximum);
  }

  /** The connection left: stop live delivery (the subscriptions stay in the session). */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    for (const sub of this.activeSubscriptions) this.deps.router.detach(sub);
    this.outbound.detach();
  }

  /**
   * Adds or replaces a subscription [MQTT-3.8.4-3]; returns whether one with the same filter existed and whether
   * retained messages should be sent for it (Retain Handling, [MQTT-3.3.1-9], [MQTT-3.3.1-10], [MQTT-3.3.1-11]).
   */
  subscribe(record: SubscriptionRecord): { existed: boolean; sendRetained: boolean; ready: Promise<void> } {
    const previous = this.subscriptions.get(record.topicFilter);
    const sub = new ActiveSubscription(record, this);
    this.subscriptions.set(record.topicFilter, sub);
    // the new subscription is registered before the old one goes, so a shared interest is never dropped between
    const ready = this.attached ? this.deps.router.attach(sub) : Promise.resolve();
    if (previous !== undefined && this.attached) this.deps.router.detach(previous);
    const existed = previous !== undefined;
    // shared subscriptions never receive retained messages at subscribe time (MQTT 5 §4.8.2)
    const sendRetained = !sub.isShared && (record.retainHandling === 0 || (record.retainHandling === 1 && !existed));
    return { existed, sendRetained, ready };
  }

  /** Removes a subscription; false when there was none [MQTT-3.10.4-?: UNSUBACK 0x11]. */
  unsubscribe(topicFilter: string): boolean {
    const sub = this.subscriptionMap?.get(topicFilter);
    if (sub === undefined) return false;
    this.subscriptions.delete(topicFilter);
    if (this.attached) this.deps.router.detach(sub);
    return true;
  }

  /** Sends a retained message found at subscribe time: always with RETAIN set [MQTT-3.3.1-8]. */
  deliverRetained(topicFilter: string, message: Message): void {
    const sub = this.subscriptionMap?.get(topicFilter);
    if (sub === undefined || (sub.leadingWildcard && message.topic.startsWith('$'))) return;
    this.push(sub, message, true);
  }

  /** A live message reached one of this session's subscriptions. */
  deliverLive(sub: ActiveSubscription, message: DeliveredMessage): void {
    if (message.sequence !== undefined && this.cursors.isReplaying(message.shardId)) {
      this.replayBuffer.hold(message.shardId, sub, message); // delivered in order once the replay caught up
      return;
    }
    this.deliverTo(sub, message);
  }

  /** Offline messages read from a shard, in sequence order: to every matching subscription but shared ones. */
  deliverReplayed(messages: readonly DeliveredMessage[]): void {
    for (const message of messages) {
      if (message.sequence !== undefined && this.cursors.isInflight(message.shardId, message.sequence)) continue; // re-sent with DUP
      for (const sub of this.activeSubscriptions) {
        if (!sub.isShared && topicMatchesFilter(message.topic, sub.key.filter)) this.deliverTo(sub, message);
      }
    }
  }

  /** A shard's replay read everything through `sequence`: the live messages held after it go out, then live delivery. */
  finishReplay(shardId: string, sequence: number): void {
    for (const [sub, message] of this.replayBuffer.release(shardId, sequence)) {
      if (this.subscriptionMap?.get(sub.record.topicFilter) === sub) this.deliverTo(sub, message);
    }
    this.cursors.replayedThrough(shardId, sequence);
    this.cursors.endReplay(shardId);
  }

  private deliverTo(sub: ActiveSubscription, message: DeliveredMessage): void {
    if (sub.leadingWildcard && message.topic.startsWith('$')) return; // [MQTT-4.7.2-1]
    if (sub.record.noLocal && message.originClientId === this.clientId) return; // [MQTT-3.8.3-3]
    // [MQTT-3.3.1-12] [MQTT-3.3.1-13] Retain As Published keeps the flag, otherwise live messages carry 0
    this.push(sub, message, sub.record.retainAsPublished && message.retain);
  }

  private push(sub: ActiveSubscription, message: Message & Partial<Pick<DeliveredMessage, 'shardId' | 'sequence'>>, retain: boolean): void {
    const now = this.deps.clock.now();
    if (message.expiresAtMs !== undefined && message.expiresAtMs <= now) {
      this.deps.metrics.dropped('expired', message.qos);
      return;
    }
    const qos = Math.min(message.qos, sub.record.qos) as QoS; // [MQTT-3.8.4-8]
    // the cursor follows stored messages of a session that outlives its connection
    const { shardId, sequence } = message;
    const tracked = qos > 0 && this.expiryIntervalSeconds > 0 && shardId !== undefined && sequence !== undefined;
    const origin = tracked ? { shardId, sequence } : undefined;
    if (origin !== undefined) this.cursors.dispatched(origin.shardId, origin.sequence);
    const outbound = outboundMessage(message, qos, retain, sub.subscriptionIds, origin);
    this.deps.metrics.delivered(qos);
    this.outbound.push(outbound);
  }
}

/** An OutboundMessage under construction. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The message as this subscriber gets it. When nothing differs (the same QoS and RETAIN, no Subscription Identifier,
 * no cursor to follow) that is the message itself, shared by its subscribers: a Message has no fields of its own
 * for those two, its fields are read-only, and what is stored with a session is picked field by field
 * (session-codec.ts), so no copy is made per delivery. Otherwise one object, its optional fields set only when present.
 */
function outboundMessage(message: Message, qos: QoS, retain: boolean, subscriptionIds: readonly number[] | undefined, origin: MessageOrigin | undefined): OutboundMessage {
  if (subscriptionIds === undefined && origin === undefined && qos === message.qos && retain === message.retain) return message;
  const outbound: Mutable<OutboundMessage> = { topic: message.topic, payload: message.payload, qos, retain };
  if (message.properties !== undefined) outbound.properties = message.properties;
  if (subscriptionIds !== undefined) outbound.subscriptionIds = subscriptionIds;
  if (message.expiresAtMs !== undefined) outbound.expiresAtMs = message.expiresAtMs;
  if (origin !== undefined) outbound.origin = origin;
  return outbound;
}

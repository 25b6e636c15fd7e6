import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BucketHistogram, CounterTally } from './tallies.js';
import type { AclAction } from '../auth/acl.js';
import type { AuthFailureReason } from '../auth/authenticators.js';
import type { QoS } from '../backend/message.js';
import type { PublishOutcome } from '../backend/nats/nats-backend.js';
import type { RateLimitScope } from '../protocol/connect-rate-limit.js';
import type { DropReason } from '../protocol/outbound-flow.js';
import type { ConnectAdmissionMetrics } from '../protocol/connect-admission.js';
import type { ConnectResult, ProtocolMetrics } from '../protocol/ports.js';
import type { ExpiryMetrics } from '../sessions/expiry-poller.js';

/** The `qos` label of each QoS, made once. */
const QOS_LABEL = ['0', '1', '2'] as const;

/** State of one shard connection, as the shard_connected gauge reports it. */
export type ShardConnectionState = 'connected' | 'reconnecting' | 'closed';

/**
 * Every metric the proxy exports (names `shoal_proxy_*`, base units, counters ending in `_total`, never a
 * client id or topic as a label), in its own registry.
 */
export class ProxyMetrics implements ProtocolMetrics, ExpiryMetrics, ConnectAdmissionMetrics {
  readonly registry = new Registry();
  private readonly connections = new Gauge({ name: 'shoal_proxy_connections', help: 'Open MQTT connections.', registers: [this.registry] });
  private readonly connects = new CounterTally({
    name: 'shoal_proxy_connects_total',
    help: 'CONNECT attempts by result.',
    labelName: 'result',
    registry: this.registry,
  });
  // Counted on every packet or message: plain numbers until a scrape (tallies.ts)
  private readonly packets = new CounterTally({
    name: 'shoal_proxy_packets_received_total',
    help: 'MQTT packets received by type.',
    labelName: 'type',
    registry: this.registry,
  });
  private readonly publishedTotal = new CounterTally({
    name: 'shoal_proxy_messages_published_total',
    help: 'Messages accepted from clients by QoS.',
    labelName: 'qos',
    registry: this.registry,
  });
  private readonly publishFailures = new Counter({
    name: 'shoal_proxy_publish_failures_total',
    help: 'Messages from clients that could not be stored or sent, by QoS.',
    labelNames: ['qos'],
    registers: [this.registry],
  });
  private readonly deliveredTotal = new CounterTally({
    name: 'shoal_proxy_messages_delivered_total',
    help: 'Messages handed to subscribers by QoS.',
    labelName: 'qos',
    registry: this.registry,
  });
  private readonly droppedTotal = new Counter({
    name: 'shoal_proxy_messages_dropped_total',
    help: 'Messages not delivered to a subscriber, by reason and QoS.',
    labelNames: ['reason', 'qos'],
    registers: [this.registry],
  });
  private readonly offlineReplayedTotal = new Counter({
    name: 'shoal_proxy_offline_messages_replayed_total',
    help: 'Stored messages replayed to resumed persistent sessions.',
    registers: [this.registry],
  });
  private readonly offlineGaps = new Counter({
    name: 'shoal_proxy_offline_retention_gaps_total',
    help: 'Resumed sessions whose cursor was behind what the stream still holds (messages lost to offlineRetention).',
    registers: [this.registry],
  });
  private readonly offlineGapSequences = new Counter({
    name: 'shoal_proxy_offline_retention_gap_sequences_total',
    help: 'Stream sequences a resumed session skipped because retention removed them (an upper bound of its lost messages).',
    registers: [this.registry],
  });
  private readonly bytesReceived = new CounterTally({ name: 'shoal_proxy_received_bytes_total', help: 'Bytes read from clients.', registry: this.registry });
  private readonly bytesSent = new CounterTally({ name: 'shoal_proxy_sent_bytes_total', help: 'Bytes written to clients.', registry: this.registry });
  /** JetStream publish round trip for QoS ≥ 1 messages. */
  private readonly jetstreamPublishSeconds = new BucketHistogram(
    'shoal_proxy_jetstream_publish_seconds',
    'Time from a QoS >= 1 publish to its JetStream acknowledgement.',
    'shard',
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    this.registry,
  );
  /** Messages published to each shard. */
  private readonly shardPublished = new CounterTally({
    name: 'shoal_proxy_shard_published_total',
    help: 'Messages published to each shard.',
    labelName: 'shard',
    registry: this.registry,
  });
  private readonly shardConnected = new Gauge({
    name: 'shoal_proxy_shard_connected',
    help: '1 while the NATS connection to a shard is up.',
    labelNames: ['shard'],
    registers: [this.registry],
  });
  private readonly shardDisconnects = new Counter({
    name: 'shoal_proxy_shard_disconnects_total',
    help: 'Times the connection to a shard was lost (QoS 0 messages in flight on it are lost; nats-server also cuts a slow consumer).',
    labelNames: ['shard'],
    registers: [this.registry],
  });
  private readonly tlsHandshakeFailures = new Counter({
    name: 'shoal_proxy_tls_handshake_failures_total',
    help: 'TLS handshakes that failed or timed out, by listener and OpenSSL reason code.',
    labelNames: ['listener', 'reason'],
    registers: [this.registry],
  });
  private readonly authFailures = new Counter({
    name: 'shoal_proxy_auth_failures_total',
    help: 'CONNECTs refused by the authentication chain (or for their will topic), by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly aclDenials = new Counter({
    name: 'shoal_proxy_acl_denials_total',
    help: 'PUBLISHes and SUBSCRIBEs refused by the ACL, by action.',
    labelNames: ['action'],
    registers: [this.registry],
  });
  private readonly connectRateRefusals = new Counter({
    name: 'shoal_proxy_connect_rate_limited_total',
    help: 'CONNECTs refused by a connect-rate limit, by scope (address or proxy).',
    labelNames: ['scope'],
    registers: [this.registry],
  });
  private readonly slowReaders = new Counter({
    name: 'shoal_proxy_slow_reader_disconnects_total',
    help: 'Connections closed because the client stopped reading (socket above its write high-water mark too long).',
    registers: [this.registry],
  });
  /** Publishes to a shard that did not take them: `failed` (QoS ≥ 1, the client is told) or `dropped` (QoS 0, shard down). */
  private readonly shardPublishFailures = new Counter({
    name: 'shoal_proxy_shard_publish_failures_total',
    help: 'Publishes a shard did not take, by shard and outcome (failed: QoS >= 1 refused or closed; dropped: QoS 0 to a shard that is down).',
    labelNames: ['shard', 'outcome'],
    registers: [this.registry],
  });
  private readonly expiryOutcomes = new Counter({
    name: 'shoal_proxy_expiry_entries_total',
    help: 'Entries of the shared expiry index this proxy claimed and settled, by outcome (will_fired, will_lost, session_expired, corrupt, orphaned: sessions of a dead proxy looked at).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly admissionActive = new Gauge({
    name: 'shoal_proxy_connect_admission_active',
    help: 'CONNECTs opening their session now (bounded by connectAdmission.maxConcurrent).',
    registers: [this.registry],
  });
  private readonly admissionWaiting = new Gauge({
    name: 'shoal_proxy_connect_admission_waiting',
    help: 'CONNECTs waiting for a session-open slot (bounded by connectAdmission.maxWaiting).',
    registers: [this.registry],
  });
  private readonly admissionWait = new Histogram({
    name: 'shoal_proxy_connect_admission_wait_seconds',
    help: 'Time a CONNECT waited for a session-open slot.',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly ringVersion = new Gauge({ name: 'shoal_proxy_ring_version', help: 'Version of the ring in use.', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'shoal_proxy_' });
  }

  connectionOpened(): void {
    this.connections.inc();
  }
  connectionClosed(): void {
    this.connections.dec();
  }
  connect(result: ConnectResult): void {
    this.connects.add(result);
  }
  packetReceived(type: string): void {
    this.packets.add(type);
  }
  published(qos: QoS): void {
    this.publishedTotal.add(QOS_LABEL[qos]);
  }
  publishFailed(qos: QoS): void {
    this.publishFailures.inc({ qos });
  }
  delivered(qos: QoS): void {
    this.deliveredTotal.add(QOS_LABEL[qos]);
  }
  dropped(reason: DropReason, qos: QoS): void {
    this.droppedTotal.inc({ reason, qos });
  }
  bytesIn(bytes: number): void {
    this.bytesReceived.inc(bytes);
  }
  bytesOut(bytes: number): void {
    this.bytesSent.inc(bytes);
  }
  /**
   * A publish to a shard ended: counted per shard, its JetStream round trip observed for QoS ≥ 1 (`seconds`), or
   * counted as a failure (`failed`: the client is told; `dropped`: QoS 0 to a shard that is down).
   */
  shardPublish(shard: string, qos: QoS, outcome: PublishOutcome, seconds: number): void {
    if (outcome !== 'ok') {
      this.shardPublishFailures.inc({ shard, outcome });
      return;
    }
    this.shardPublished.add(shard);
    if (qos > 0) this.jetstreamPublishSeconds.observe(shard, seconds);
  }
  offlineReplayed(count: number): void {
    this.offlineReplayedTotal.inc(count);
  }
  offlineGap(missed: number): void {
    this.offlineGaps.inc();
    this.offlineGapSequences.inc(missed);
  }
  authFailed(reason: AuthFailureReason): void {
    this.authFailures.inc({ reason });
  }
  aclDenied(action: AclAction): void {
    this.aclDenials.inc({ action });
  }
  connectRateLimited(scope: RateLimitScope): void {
    this.connectRateRefusals.inc({ scope });
  }
  slowReaderClosed(): void {
    this.slowReaders.inc();
  }
  /** A TLS handshake failed on a listener (`tls` or `wss`); `reason` is OpenSSL's code, `timeout` or `other`. */
  tlsHandshakeFailed(listener: 'tls' | 'wss', reason: string): void {
    this.tlsHandshakeFailures.inc({ listener, reason });
  }
  /** A shard connection that was up went down. */
  shardDisconnected(shard: string): void {
    this.shardDisconnects.inc({ shard });
  }
  shardState(shard: string, state: ShardConnectionState): void {
    if (state === 'closed') this.shardConnected.remove({ shard });
    else this.shardConnected.set({ shard }, state === 'connected' ? 1 : 0);
  }
  willFired(): void {
    this.expiryOutcomes.inc({ outcome: 'will_fired' });
  }
  willLost(): void {
    this.expiryOutcomes.inc({ outcome: 'will_lost' });
  }
  sessionExpired(): void {
    this.expiryOutcomes.inc({ outcome: 'session_expired' });
  }
  corruptEntry(): void {
    this.expiryOutcomes.inc({ outcome: 'corrupt' });
  }
  sessionsOrphaned(count: number): void {
    this.expiryOutcomes.inc({ outcome: 'orphaned' }, count);
  }
  admissionState(active: number, waiting: number): void {
    this.admissionActive.set(active);
    this.admissionWaiting.set(waiting);
  }
  admissionWaited(seconds: number): void {
    this.admissionWait.observe(seconds);
  }
  ring(version: number): void {
    this.ringVersion.set(version);
  }
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QoS } from '../backend/message.js';
import type { DropReason } from '../protocol/outbound-flow.js';
import type { ConnectAdmissionMetrics } from '../protocol/connect-admission.js';
import type { ConnectResult, ProtocolMetrics } from '../protocol/ports.js';

/** State of one shard connection, as the shard_connected gauge reports it. */
export type ShardConnectionState = 'connected' | 'reconnecting' | 'closed';

/**
 * Every metric the proxy exports (names `shoal_proxy_*`, base units, counters ending in `_total`, never a
 * client id or topic as a label), in its own registry.
 */
export class ProxyMetrics implements ProtocolMetrics, ConnectAdmissionMetrics {
  readonly registry = new Registry();
  private readonly connections = new Gauge({ name: 'shoal_proxy_connections', help: 'Open MQTT connections.', registers: [this.registry] });
  private readonly connects = new Counter({
    name: 'shoal_proxy_connects_total',
    help: 'CONNECT attempts by result.',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly packets = new Counter({
    name: 'shoal_proxy_packets_received_total',
    help: 'MQTT packets received by type.',
    labelNames: ['type'],
    registers: [this.registry],
  });
  private readonly publishedTotal = new Counter({
    name: 'shoal_proxy_messages_published_total',
    help: 'Messages accepted from clients by QoS.',
    labelNames: ['qos'],
    registers: [this.registry],
  });
  private readonly publishFailures = new Counter({
    name: 'shoal_proxy_publish_failures_total',
    help: 'Messages from clients that could not be stored or sent, by QoS.',
    labelNames: ['qos'],
    registers: [this.registry],
  });
  private readonly deliveredTotal = new Counter({
    name: 'shoal_proxy_messages_delivered_total',
    help: 'Messages handed to subscribers by QoS.',
    labelNames: ['qos'],
    registers: [this.registry],
  });
  private readonly droppedTotal = new Counter({
    name: 'shoal_proxy_messages_dropped_total',
    help: 'Messages not delivered to a subscriber, by reason and QoS.',
    labelNames: ['reason', 'qos'],
    registers: [this.registry],
  });
  private readonly bytesReceived = new Counter({ name: 'shoal_proxy_received_bytes_total', help: 'Bytes read from clients.', registers: [this.registry] });
  private readonly bytesSent = new Counter({ name: 'shoal_proxy_sent_bytes_total', help: 'Bytes written to clients.', registers: [this.registry] });
  /** JetStream publish round trip for QoS ≥ 1 messages. */
  readonly jetstreamPublishSeconds = new Histogram({
    name: 'shoal_proxy_jetstream_publish_seconds',
    help: 'Time from a QoS >= 1 publish to its JetStream acknowledgement.',
    labelNames: ['shard'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  /** Messages published to each shard. */
  readonly shardPublished = new Counter({
    name: 'shoal_proxy_shard_published_total',
    help: 'Messages published to each shard.',
    labelNames: ['shard'],
    registers: [this.registry],
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
    this.connects.inc({ result });
  }
  packetReceived(type: string): void {
    this.packets.inc({ type });
  }
  published(qos: QoS): void {
    this.publishedTotal.inc({ qos });
  }
  publishFailed(qos: QoS): void {
    this.publishFailures.inc({ qos });
  }
  delivered(qos: QoS): void {
    this.deliveredTotal.inc({ qos });
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

// One publish/subscribe load on one system, the same for every system: publishers each on their own topic,
// subscribers each on a filter that matches some of those topics (1:1 pairs, fan-in, fan-out are shapes of
// it). Publishers run at full speed bounded by an end-to-end window (a publisher stops while more than
// `e2eWindow` of its messages have not reached its slowest subscriber, so no system builds an unbounded
// backlog and latency stays a service figure), or paced at a fixed rate. QoS 1 publishers also keep at most
// `window` PUBLISHes awaiting PUBACK.
//
// Over the measured interval: published (QoS 1: PUBACKed) and delivered messages per second, end-to-end and
// PUBACK latency; after a drain, the delivery ratio (per subscriber and topic, the share of the messages sent
// in the interval that arrived) and out-of-order arrivals.
import { performance } from 'node:perf_hooks';
import { Publisher } from './publisher.js';
import { RawMqttClient } from './raw-mqtt.js';
import type { Delivery, LoadQoS } from './raw-mqtt.js';
import { Samples, round, sum, type Percentiles } from './samples.js';
import type { Endpoint } from './targets.js';
import { setTimeout as sleep } from 'node:timers/promises';

const STALL_MS = 3_000;

export interface FlowSpec {
  readonly qos: LoadQoS;
  readonly publishers: readonly { readonly endpoint: Endpoint; readonly topic: string }[];
  /** `publishers`: indices of the publishers whose topic the filter matches. */
  readonly subscribers: readonly { readonly endpoint: Endpoint; readonly filter: string; readonly publishers: readonly number[] }[];
  readonly payloadBytes: number;
  /** QoS 1: PUBLISHes awaiting PUBACK per publisher. */
  readonly window: number;
  /** Messages of a publisher not yet seen by its slowest subscriber. */
  readonly e2eWindow: number;
  /** Paced: messages per second per publisher. */
  readonly ratePerPublisher?: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly drainSeconds: number;
  readonly clientIdPrefix: string;
  /** CONNECTs (and SUBSCRIBEs) in flight while setting up. */
  readonly connectConcurrency?: number;
}

export interface FlowResult {
  publishers: number;
  subscribers: number;
  intervalSeconds: number;
  sentInInterval: number;
  publishedPerSecond: number;
  deliveredPerSecond: number;
  deliveryRatio: number;
  expectedDeliveries: number;
  receivedDeliveries: number;
  drain: { seconds: number; endedBy: 'complete' | 'stall' | 'timeout' };
  outOfOrder: number;
  publishFailures: number;
  latencyMs: Percentiles | undefined;
  pubackLatencyMs: Percentiles | undefined;
  clientErrors: string[];
}

/** One (subscriber, publisher) link: what the subscriber saw of that publisher's sequence. */
interface Link {
  readonly pub: number;
  lastSeq: number;
  inRange: number;
}

async function inBatches<T>(count: number, concurrency: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await make(i);
    }
  }));
  return out;
}

export async function runFlow(spec: FlowSpec, onMeasureStart: () => void, onMeasureEnd: () => void): Promise<FlowResult> {
  const clients: RawMqttClient[] = [];
  const open = async (endpoint: Endpoint, clientId: string): Promise<RawMqttClient> => {
    const client = await RawMqttClient.connect({ host: endpoint.host, port: endpoint.port, clientId, protocolVersion: 4, keepaliveSeconds: 60, connectTimeoutMs: 20_000 });
    clients.push(client);
    return client;
  };
  try {
    return await drive(spec, open, clients, { onMeasureStart, onMeasureEnd });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

async function drive(
  spec: FlowSpec,
  open: (endpoint: Endpoint, clientId: string) => Promise<RawMqttClient>,
  clients: RawMqttClient[],
  hooks: { onMeasureStart: () => void; onMeasureEnd: () => void },
): Promise<FlowResult> {
  const concurrency = spec.connectConcurrency ?? 50;
  const linksOfPub: Link[][] = spec.publishers.map(() => []);
  const startSeq = spec.publishers.map(() => Number.POSITIVE_INFINITY);
  const endSeq = spec.publishers.map(() => Number.POSITIVE_INFINITY);
  const latency = new Samples();
  const pubackLatency = new Samples();
  let measuring = false;
  let deliveredInInterval = 0;
  let outOfOrder = 0;
  const publishers: Publisher[] = [];

  await inBatches(spec.subscribers.length, concurrency, async (j) => {
    const sub = spec.subscribers[j];
    if (sub === undefined) return;
    const client = await open(sub.endpoint, `${spec.clientIdPrefix}-sub-${j}`);
    const byTopic = new Map<string, Link>();
    for (const p of sub.publishers) {
      const link: Link = { pub: p, lastSeq: -1, inRange: 0 };
      linksOfPub[p]?.push(link);
      byTopic.set(spec.publishers[p]?.topic ?? '', link);
    }
    client.onDelivery = (d: Delivery) => {
      const link = byTopic.get(d.topic);
      if (link === undefined) return;
      if (d.seq <= link.lastSeq) outOfOrder++;
      else link.lastSeq = d.seq;
      if (d.seq >= (startSeq[link.pub] ?? 0) && d.seq < (endSeq[link.pub] ?? 0)) link.inRange++;
      if (measuring) {
        deliveredInInterval++;
        latency.add(performance.now() - d.sentAtMs);
      }
      publishers[link.pub]?.resume();
    };
    const granted = await client.subscribe([{ topic: sub.filter, qos: spec.qos }], 20_000);
    if (granted[0] !== spec.qos) throw new Error(`subscriber ${j}: SUBACK granted ${granted.join(',')}`);
  });

  const created = await inBatches(spec.publishers.length, concurrency, async (i) => {
    const pub = spec.publishers[i];
    const client = await open(pub?.endpoint ?? { host: '127.0.0.1', port: 0 }, `${spec.clientIdPrefix}-pub-${i}`);
    const links = linksOfPub[i] ?? [];
    const credit = (): number => {
      let slowest = Number.POSITIVE_INFINITY;
      for (const link of links) slowest = Math.min(slowest, link.lastSeq);
      return links.length === 0 ? spec.e2eWindow : spec.e2eWindow - (publisher.sent - 1 - slowest);
    };
    const publisher: Publisher = new Publisher(client, {
      topic: pub?.topic ?? '',
      qos: spec.qos,
      payloadBytes: spec.payloadBytes,
      window: spec.window,
      credit,
      ...(spec.ratePerPublisher === undefined ? {} : { ratePerSecond: spec.ratePerPublisher }),
    });
    publisher.onAcked = (ms) => {
      if (measuring) pubackLatency.add(ms);
    };
    return publisher;
  });
  publishers.push(...created);

  for (const p of publishers) p.start();
  await sleep(spec.warmupSeconds * 1000);
  const ackedBefore = publishers.map((p) => p.acked);
  publishers.forEach((p, i) => (startSeq[i] = p.sent));
  hooks.onMeasureStart();
  const started = performance.now();
  measuring = true;
  await sleep(spec.seconds * 1000);
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  publishers.forEach((p, i) => (endSeq[i] = p.sent));
  hooks.onMeasureEnd();
  const acked = sum(publishers.map((p, i) => p.acked - (ackedBefore[i] ?? 0)));
  await Promise.all(publishers.map((p) => p.stop()));

  const links = linksOfPub.flat();
  const expected = sum(links.map((l) => (endSeq[l.pub] ?? 0) - (startSeq[l.pub] ?? 0)));
  const received = (): number => sum(links.map((l) => l.inRange));
  const drain = await drainUntil(() => received() >= expected, received, spec.drainSeconds * 1000);
  const sent = sum(endSeq.map((end, i) => end - (startSeq[i] ?? 0)));
  return {
    publishers: spec.publishers.length,
    subscribers: spec.subscribers.length,
    intervalSeconds: round(seconds, 3),
    sentInInterval: sent,
    publishedPerSecond: round((spec.qos === 1 ? acked : sent) / seconds, 0),
    deliveredPerSecond: round(deliveredInInterval / seconds, 0),
    deliveryRatio: expected === 0 ? 0 : round(received() / expected, 6),
    expectedDeliveries: expected,
    receivedDeliveries: received(),
    drain,
    outOfOrder,
    publishFailures: sum(publishers.map((p) => p.failed)),
    latencyMs: latency.percentiles(),
    pubackLatencyMs: pubackLatency.percentiles(),
    clientErrors: clients.flatMap((c) => (c.error === undefined ? [] : [c.error.message])).slice(0, 10),
  };
}

/** Waits until `done()`, or nothing new arrived for `stallMs`, or `limitMs`. */
export async function drainUntil(done: () => boolean, progress: () => number, limitMs: number, stallMs = STALL_MS): Promise<{ seconds: number; endedBy: 'complete' | 'stall' | 'timeout' }> {
  const started = performance.now();
  let seen = -1;
  let lastProgress = started;
  for (;;) {
    const now = performance.now();
    const elapsed = round((now - started) / 1000);
    if (done()) return { seconds: elapsed, endedBy: 'complete' };
    const got = progress();
    if (got !== seen) [seen, lastProgress] = [got, now];
    if (now - started > limitMs) return { seconds: elapsed, endedBy: 'timeout' };
    if (now - lastProgress > stallMs) return { seconds: elapsed, endedBy: 'stall' };
    await sleep(50);
  }
}

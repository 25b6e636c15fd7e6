// QoS 1 traffic through a fleet with exact accounting: publishers number their messages, a persistent QoS 1
// subscriber records what arrives. Every client knows every proxy (MQTT.js `servers`) and reconnects to the
// next one when its proxy goes away. A message counts as acknowledged when its PUBACK arrived; lost when it
// was acknowledged and never delivered; duplicated for each delivery beyond the first.
import mqtt, { type MqttClient } from 'mqtt';

export interface LoadEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface Qos1LoadOptions {
  /** Every proxy; clients start on `endpoints[0]` (publishers on `publisherStart`) and rotate on reconnect. */
  readonly endpoints: readonly LoadEndpoint[];
  /** Topic prefix of this load (messages go to `<prefix>/p<i>/k<n>`, 16 topics per publisher). */
  readonly prefix: string;
  readonly publishers: number;
  /** Messages per second per publisher. */
  readonly ratePerSecond: number;
  /** Index into `endpoints` where the publishers start. @default 0 */
  readonly publisherStart?: number;
  /** Index into `endpoints` where the subscriber starts. @default endpoints.length - 1 */
  readonly subscriberStart?: number;
  /** MQTT protocol of every client. @default 5 */
  readonly protocolVersion?: 4 | 5;
}

/** The counts of a load (or of one window of it). */
export interface LoadCounts {
  readonly acknowledged: number;
  readonly lost: number;
  readonly duplicated: number;
}

const PROBE = 'probe';

function rotated(endpoints: readonly LoadEndpoint[], start: number): { host: string; port: number; protocol: 'mqtt' }[] {
  return endpoints.map((_, k) => {
    const e = endpoints[(start + k) % endpoints.length] as LoadEndpoint;
    return { host: e.host, port: e.port, protocol: 'mqtt' };
  });
}

function connected(client: MqttClient): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve) => client.once('connect', () => resolve()));
}

/** A running QoS 1 load; `close()` ends every client. */
export class Qos1Load {
  /** Acknowledged message ids (`p<i>:<seq>`) with the time of the PUBACK. */
  private readonly acked = new Map<string, number>();
  /** Delivered message ids with their delivery count. */
  private readonly received = new Map<string, number>();
  private readonly probeWaiters = new Map<string, () => void>();
  private readonly timers: NodeJS.Timeout[] = [];
  private probes = 0;
  private publishing = false;

  private constructor(
    private readonly options: Qos1LoadOptions,
    private readonly subscriber: MqttClient,
    private readonly publishers: readonly MqttClient[],
  ) {
    subscriber.on('message', (topic, payload) => this.onMessage(topic, payload.toString()));
  }

  /** Connects the persistent subscriber (subscribed before it returns) and the publishers; publishing starts. */
  static async start(options: Qos1LoadOptions): Promise<Qos1Load> {
    const protocolVersion = options.protocolVersion ?? 5;
    const common = { protocolVersion, reconnectPeriod: 100, connectTimeout: 5_000, keepalive: 10 } as const;
    const subscriber = mqtt.connect({
      ...common,
      servers: rotated(options.endpoints, options.subscriberStart ?? options.endpoints.length - 1),
      clientId: `${options.prefix.replaceAll('/', '-')}-sub`,
      clean: false,
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3_600 } } : {}),
    });
    await connected(subscriber);
    await subscriber.subscribeAsync(`${options.prefix}/#`, { qos: 1 });
    const publishers = Array.from({ length: options.publishers }, (_, i) =>
      mqtt.connect({
        ...common,
        servers: rotated(options.endpoints, (options.publisherStart ?? 0) + i),
        clientId: `${options.prefix.replaceAll('/', '-')}-pub-${i}`,
        clean: true,
      }),
    );
    await Promise.all(publishers.map(connected));
    const load = new Qos1Load(options, subscriber, publishers);
    load.resume();
    return load;
  }

  /** Starts (again) publishing at the configured rate. */
  resume(): void {
    if (this.publishing) return;
    this.publishing = true;
    const intervalMs = Math.max(1, Math.round(1000 / this.options.ratePerSecond));
    for (const [i, client] of this.publishers.entries()) {
      let seq = 0;
      const timer = setInterval(() => {
        if (!client.connected) return; // nothing is sent while a publisher reconnects
        const id = `p${i}:${seq}`;
        const topic = `${this.options.prefix}/p${i}/k${seq % 16}`;
        seq += 1;
        client.publish(topic, id, { qos: 1 }, (err) => {
          if (!(err instanceof Error)) this.acked.set(id, Date.now());
        });
      }, intervalMs);
      this.timers.push(timer);
    }
  }

  /** Stops publishing (messages in flight still complete). */
  pause(): void {
    this.publishing = false;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  /** Counts so far: acknowledged, lost (acknowledged, not delivered), duplicated. */
  counts(): LoadCounts {
    let lost = 0;
    for (const id of this.acked.keys()) if (!this.received.has(id)) lost += 1;
    let duplicated = 0;
    for (const count of this.received.values()) duplicated += count - 1;
    return { acknowledged: this.acked.size, lost, duplicated };
  }

  /** Resolves once every acknowledged message was delivered, or after `timeoutMs`; returns the counts. */
  async settle(timeoutMs: number): Promise<LoadCounts> {
    const until = Date.now() + timeoutMs;
    while (this.counts().lost > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    return this.counts();
  }

  /**
   * Resolves (with the time it took) once every client is connected and a probe message from each publisher
   * went through to the subscriber: the fleet carries traffic again.
   */
  async probe(timeoutMs: number): Promise<number> {
    const started = Date.now();
    let stopped = false;
    // one probe per publisher, sent again every second until one arrives (a PUBLISH refused while a stream
    // elects a leader, or sent just before a proxy died, would otherwise never arrive)
    const through = async (client: MqttClient, i: number): Promise<void> => {
      for (let arrived = false; !arrived && !stopped; ) {
        await connected(client);
        const id = `${PROBE}${(this.probes += 1)}`;
        let timer: NodeJS.Timeout | undefined;
        arrived = await new Promise<boolean>((resolve) => {
          this.probeWaiters.set(id, () => resolve(true));
          timer = setTimeout(() => resolve(false), 1_000);
          client.publish(`${this.options.prefix}/${PROBE}/p${i}`, id, { qos: 1 });
        });
        clearTimeout(timer);
      }
    };
    const attempt = async (): Promise<void> => {
      await connected(this.subscriber);
      await Promise.all(this.publishers.map(through));
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no traffic within ${timeoutMs} ms`)), timeoutMs)));
    try {
      await Promise.race([attempt(), timeout]);
    } finally {
      stopped = true;
      clearTimeout(timer);
      this.probeWaiters.clear();
    }
    return Date.now() - started;
  }

  async close(): Promise<void> {
    this.pause();
    await Promise.all([this.subscriber, ...this.publishers].map((c) => c.endAsync(true)));
  }

  private onMessage(topic: string, id: string): void {
    if (topic.startsWith(`${this.options.prefix}/${PROBE}/`)) {
      this.probeWaiters.get(id)?.();
      this.probeWaiters.delete(id);
      return;
    }
    this.received.set(id, (this.received.get(id) ?? 0) + 1);
  }
}

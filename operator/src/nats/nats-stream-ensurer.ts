// The StreamEnsurer on NATS: connect to the shard, ensure the streams with the proxy's own
// `ensureStreams` (idempotent, safe when several callers race), close. Every wait is bounded: the
// connection by `connectTimeoutMs` (no reconnects), each JetStream API call by `apiTimeoutMs`, the whole
// by `totalTimeoutMs`. Only main.ts wires it in; the controller knows the StreamEnsurer interface.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureStreams } from '@shoal/proxy/internal';
import { StreamsNotReadyError, type ShardEndpoint, type StreamEnsurer, type StreamSettings } from '../controller/stream-ensurer.js';

export interface NatsStreamEnsurerOptions {
  /** Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Each JetStream API request; default 5 s. */
  readonly apiTimeoutMs?: number;
  /** The whole ensure, connection included; default 20 s. */
  readonly totalTimeoutMs?: number;
  /** `Nats-Msg-Id` de-duplication window of SHOAL_MSGS; default 120 s (the proxy's default). */
  readonly duplicateWindowSeconds?: number;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class NatsStreamEnsurer implements StreamEnsurer {
  constructor(private readonly options: NatsStreamEnsurerOptions = {}) {}

  async ensure(shard: ShardEndpoint, settings: StreamSettings): Promise<void> {
    const totalMs = this.options.totalTimeoutMs ?? 20_000;
    let connection: NatsConnection | undefined;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error(`timed out after ${totalMs} ms`));
      }, totalMs);
    });
    const work = async (): Promise<void> => {
      connection = await connect({
        servers: [...shard.urls],
        name: 'shoal-operator',
        timeout: this.options.connectTimeoutMs ?? 5_000,
        reconnect: false,
      });
      if (timedOut) return;
      const jsm = await jetstreamManager(connection, { timeout: this.options.apiTimeoutMs ?? 5_000 });
      await ensureStreams(jsm, {
        messageMaxAgeSeconds: settings.maxAgeSeconds,
        messageMaxBytes: settings.maxBytes,
        duplicateWindowSeconds: this.options.duplicateWindowSeconds ?? 120,
        replicas: settings.replicas,
      });
    };
    const running = work();
    try {
      await Promise.race([running, deadline]);
    } catch (err: unknown) {
      // After a timeout the connection may still be opening: close it once it is there.
      void running
        .catch(() => undefined)
        .then(() => connection?.close())
        .catch(() => undefined);
      throw new StreamsNotReadyError(shard.id, `cannot ensure the streams on ${shard.id} (${shard.urls.join(', ')}): ${messageOf(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    await connection?.close().catch(() => undefined);
  }
}

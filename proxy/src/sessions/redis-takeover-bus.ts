import { Redis } from 'ioredis';
import { BackendUnavailableError } from '../errors.js';
import { takeoverChannel } from './redis-keys.js';
import { decodeTakeover, encodeTakeover, type TakeoverBus, type TakeoverListener } from './takeover-bus.js';

export interface RedisTakeoverBusOptions {
  /** The same Redis as the session store. */
  readonly url: string;
  /** A publish not answered in this time fails. Default 1,000. */
  readonly commandTimeoutMs?: number;
}

/**
 * Takeover notices over Redis pub/sub: one channel per proxy (redis-keys.ts `takeoverChannel`). A subscribed
 * connection can run no other command, so it has its own; ioredis subscribes it again after a reconnect.
 */
export class RedisTakeoverBus implements TakeoverBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;

  constructor(options: RedisTakeoverBusOptions) {
    const common = { connectTimeout: 2_000, disconnectTimeout: 200, retryStrategy: (attempt: number) => Math.min(attempt * 100, 2_000) };
    this.publisher = new Redis(options.url, { ...common, commandTimeout: options.commandTimeoutMs ?? 1_000, maxRetriesPerRequest: 1 });
    // the SUBSCRIBE waits for a connection however long Redis is away
    this.subscriber = new Redis(options.url, { ...common, maxRetriesPerRequest: null, autoResubscribe: true });
    this.publisher.on('error', () => undefined); // failures surface as rejected publishes
    this.subscriber.on('error', () => undefined); // reconnecting is ioredis's job
  }

  listen(proxyId: string, onTakeover: TakeoverListener): void {
    const channel = takeoverChannel(proxyId);
    this.subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      const notice = decodeTakeover(message);
      if (notice !== undefined) onTakeover(notice.clientId, notice.epoch);
    });
    this.subscriber.subscribe(channel).catch(() => undefined); // only fails when closed
  }

  async notify(proxyId: string, clientId: string, epoch: number): Promise<void> {
    try {
      await this.publisher.publish(takeoverChannel(proxyId), encodeTakeover(clientId, epoch));
    } catch (err: unknown) {
      throw new BackendUnavailableError('redis', err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.publisher, this.subscriber].map(async (redis) => {
        if (redis.status === 'ready') await redis.quit().catch(() => undefined);
        redis.disconnect();
      }),
    );
  }
}

// Connect-rate limits: token buckets per source address and for the whole proxy. A CONNECT takes one token from
// its address's bucket and one from the proxy's; without both it is refused (v5 CONNACK 0x9F Connection Rate
// Exceeded, v3.1.1 return code 3 Server Unavailable) and closed. Time comes from the injected clock.
import type { Clock } from '../clock.js';
import { ProtocolError } from '../errors.js';
import type { ClientHandler } from './client-handler.js';
import { ReasonCode } from './reason-codes.js';

/** A token bucket: `capacity` tokens, refilled at `ratePerSecond`; rate 0 means no limit. */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.updatedMs = nowMs;
  }

  /** Takes a token if there is one. */
  take(nowMs: number): boolean {
    if (this.ratePerSecond === 0) return true;
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether the bucket is full at `nowMs` (it then holds no state worth keeping). */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.capacity;
  }

  private refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.updatedMs);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
    this.updatedMs = nowMs;
  }
}

export interface ConnectRateSettings {
  readonly connectRatePerAddress: number;
  readonly connectBurstPerAddress: number;
  readonly connectRatePerProxy: number;
  readonly connectBurstPerProxy: number;
}

/** Which bucket refused a CONNECT, a label of `shoal_proxy_connect_rate_limited_total`. */
export type RateLimitScope = 'address' | 'proxy';

/** Most addresses tracked at once; full buckets are pruned first, then the oldest (a flood of spoofed sources cannot grow memory). */
const MAX_ADDRESSES = 100_000;

/** The source address without its port (`1.2.3.4:5` → `1.2.3.4`, `::1:5` → `::1`). */
export function addressOf(remote: string): string {
  const colon = remote.lastIndexOf(':');
  return colon <= 0 ? remote : remote.slice(0, colon);
}

export class ConnectRateLimiter {
  private readonly proxy: TokenBucket;
  private readonly addresses = new Map<string, TokenBucket>();

  constructor(
    private readonly settings: ConnectRateSettings,
    private readonly clock: Clock,
  ) {
    this.proxy = new TokenBucket(settings.connectRatePerProxy, settings.connectBurstPerProxy, clock.now());
  }

  /** Takes a token for a CONNECT from `remote` (`address:port`); the scope that refused it, or undefined. */
  admit(remote: string): RateLimitScope | undefined {
    const now = this.clock.now();
    if (this.settings.connectRatePerAddress > 0) {
      const address = addressOf(remote);
      let bucket = this.addresses.get(address);
      if (bucket === undefined) {
        if (this.addresses.size >= MAX_ADDRESSES) this.prune(now);
        bucket = new TokenBucket(this.settings.connectRatePerAddress, this.settings.connectBurstPerAddress, now);
        this.addresses.set(address, bucket);
      }
      if (!bucket.take(now)) return 'address';
    }
    return this.proxy.take(now) ? undefined : 'proxy';
  }

  /** Addresses tracked now (for tests and the bound). */
  get trackedAddresses(): number {
    return this.addresses.size;
  }

  private prune(now: number): void {
    for (const [address, bucket] of this.addresses) if (bucket.isFull(now)) this.addresses.delete(address);
    // still full of active addresses: forget the oldest half (they get a fresh bucket, the bound holds)
    if (this.addresses.size >= MAX_ADDRESSES) {
      let drop = this.addresses.size / 2;
      for (const address of this.addresses.keys()) {
        if (drop-- <= 0) break;
        this.addresses.delete(address);
      }
    }
  }
}

/** The check `admit()` makes: a CONNECT above a rate is counted and refused with 0x9F (v3.1.1: 3), then closed. */
export function refuseAboveConnectRate(client: ClientHandler): void {
  const scope = client.ctx.connectRate?.admit(client.conn.remoteAddress);
  if (scope === undefined) return;
  client.ctx.metrics.connectRateLimited(scope);
  const code = client.isV5 ? ReasonCode.ConnectionRateExceeded : ReasonCode.ServerUnavailable;
  throw new ProtocolError(code, `connection rate exceeded (${scope})`);
}

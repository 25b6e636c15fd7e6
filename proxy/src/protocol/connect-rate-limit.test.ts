import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../test-support/protocol-harness.js';
import { addressOf, ConnectRateLimiter, TokenBucket } from './connect-rate-limit.js';

const settings = { connectRatePerAddress: 2, connectBurstPerAddress: 3, connectRatePerProxy: 10, connectBurstPerProxy: 5 };

describe('connect-rate limits', () => {
  it('a token bucket gives its burst at once, then refills at its rate', () => {
    const bucket = new TokenBucket(2, 3, 0);
    expect([1, 2, 3, 4].map(() => bucket.take(0))).toEqual([true, true, true, false]);
    expect(bucket.take(499)).toBe(false);
    expect(bucket.take(500)).toBe(true);
    expect(bucket.isFull(10_000)).toBe(true);
  });

  it('a rate of 0 never refuses', () => {
    const bucket = new TokenBucket(0, 1, 0);
    expect(Array.from({ length: 100 }, () => bucket.take(0)).every(Boolean)).toBe(true);
  });

  it('limits each source address on its own, whatever its port', () => {
    const clock = new ManualClock(0);
    const limiter = new ConnectRateLimiter(settings, clock);
    expect([1, 2, 3].map((port) => limiter.admit(`10.0.0.1:${port}`))).toEqual([undefined, undefined, undefined]);
    expect(limiter.admit('10.0.0.1:4')).toBe('address');
    expect(limiter.admit('10.0.0.2:1')).toBeUndefined();
    clock.advance(500);
    expect(limiter.admit('10.0.0.1:5')).toBeUndefined();
  });

  it('limits the proxy as a whole across addresses', () => {
    const limiter = new ConnectRateLimiter(settings, new ManualClock(0));
    const results = Array.from({ length: 6 }, (_, i) => limiter.admit(`10.0.1.${i}:1`));
    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined, 'proxy']);
  });

  it('forgets idle addresses so a flood of sources stays bounded', () => {
    const clock = new ManualClock(0);
    const limiter = new ConnectRateLimiter({ ...settings, connectRatePerProxy: 0 }, clock);
    for (let i = 0; i < 100_000; i += 1) limiter.admit(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:1`);
    expect(limiter.trackedAddresses).toBe(100_000);
    clock.advance(10_000);
    limiter.admit('192.168.0.1:1');
    expect(limiter.trackedAddresses).toBe(1);
  });

  it('reads the address of IPv4 and IPv6 peers', () => {
    expect(addressOf('1.2.3.4:1883')).toBe('1.2.3.4');
    expect(addressOf('::ffff:1.2.3.4:1883')).toBe('::ffff:1.2.3.4');
    expect(addressOf('test')).toBe('test');
  });
});

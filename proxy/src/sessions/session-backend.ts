import type { Clock } from '../clock.js';
import type { ProxyConfig } from '../config/schema.js';
import { MemorySessionStore } from './memory-session-store.js';
import { RedisSessionStore } from './redis-session-store.js';
import { RedisTakeoverBus } from './redis-takeover-bus.js';
import type { SessionStore } from './session-store.js';
import { MemoryTakeoverBus, type TakeoverBus } from './takeover-bus.js';

/** The session store a proxy uses, the takeover bus that goes with it, and whether they are reachable. */
export interface SessionBackend {
  readonly store: SessionStore;
  readonly takeover: TakeoverBus;
  /** Whether the store is reachable (for readiness); always true in memory. */
  connected(): boolean;
  /** What `connected() === false` means, for `/readyz`. */
  readonly description: string;
  /** The sessions live in this process only (the configured memory store): they end when the proxy stops. */
  readonly endsWithProxy: boolean;
  close(): Promise<void>;
}

/** Builds the sessions part of the configuration: memory (one proxy) or Redis (the fleet). */
export function createSessionBackend(config: ProxyConfig['sessions'], clock: Clock): SessionBackend {
  if (config.store === 'memory') return { ...memoryBackend(new MemorySessionStore(clock)), endsWithProxy: true };
  const options = {
    url: config.url,
    ...(config.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: config.commandTimeoutMs }),
  };
  const store = new RedisSessionStore({ ...options, ...(config.expiryBuckets === undefined ? {} : { expiryBuckets: config.expiryBuckets }) });
  const takeover = new RedisTakeoverBus(options);
  return {
    store,
    takeover,
    connected: () => store.connected,
    description: 'not connected to Redis',
    endsWithProxy: false,
    close: async () => {
      await takeover.close();
      await store.close();
    },
  };
}

/** A store given by the caller (tests), with an in-process takeover bus. */
export function memoryBackend(store: SessionStore): SessionBackend {
  const takeover = new MemoryTakeoverBus();
  return {
    store,
    takeover,
    connected: () => true,
    description: 'sessions unavailable',
    endsWithProxy: false,
    close: async () => {
      await takeover.close();
      await store.close();
    },
  };
}

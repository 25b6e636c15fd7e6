import type { ProxyConfig } from '../config/schema.js';
import { ListenerSecurity } from './listener-security.js';
import type { FileLog } from './watched-file.js';

type ListenerName = keyof ProxyConfig['listeners'];

/** The security of each listener: one ListenerSecurity per chain, shared by the listeners naming it. */
export interface ListenerSecurities {
  /** The chain of a listener; undefined when it names none (every client is accepted). */
  of(listener: ListenerName): ListenerSecurity | undefined;
  close(): void;
}

/** Loads every chain a listener names; warns about listeners that accept every client. */
export async function loadListenerSecurity(config: ProxyConfig, log: FileLog & { warn(fields: object, message: string): void }): Promise<ListenerSecurities> {
  const chains = new Map<string, ListenerSecurity>();
  const byListener = new Map<ListenerName, ListenerSecurity>();
  try {
    for (const name of ['mqtt', 'tls', 'websocket'] as const) {
      const listener = config.listeners[name];
      if (listener === undefined) continue;
      const chainName = listener.auth;
      const chain = chainName === undefined ? undefined : config.auth?.chains[chainName];
      if (chainName === undefined || chain === undefined) {
        log.warn({ listener: name }, 'listener has no authentication chain: every client is accepted');
        continue;
      }
      let security = chains.get(chainName);
      if (security === undefined) {
        security = await ListenerSecurity.load(chain, log);
        chains.set(chainName, security);
      }
      byListener.set(name, security);
    }
  } catch (err: unknown) {
    for (const security of chains.values()) security.close();
    throw err;
  }
  return {
    of: (listener) => byListener.get(listener),
    close: () => {
      for (const security of chains.values()) security.close();
    },
  };
}

// Cross-proxy takeover [MQTT-3.1.4-2]: when `SessionStore.open` reports that another proxy holds a live
// connection for the client id, that proxy is told (the client id and the new epoch) and disconnects its client
// with 0x8E if that client's epoch is older. Redis pub/sub carries it in a fleet (redis-takeover-bus.ts); the
// memory bus serves a single proxy and the unit tests (several proxies in one process).

/** What a proxy does when told that one of its client ids was taken at `epoch`. */
export type TakeoverListener = (clientId: string, epoch: number) => void;

/** Tells proxies that a client id they hold was taken elsewhere. */
export interface TakeoverBus {
  /** Starts delivering the notices addressed to `proxyId` to `onTakeover`. */
  listen(proxyId: string, onTakeover: TakeoverListener): void;
  /** Tells `proxyId` that `clientId` was taken at `epoch` (best effort: a proxy that is gone hears nothing). */
  notify(proxyId: string, clientId: string, epoch: number): Promise<void>;
  close(): Promise<void>;
}

/** Proxies in one process: notices are delivered asynchronously, like over the network. */
export class MemoryTakeoverBus implements TakeoverBus {
  private readonly listeners = new Map<string, TakeoverListener>();

  listen(proxyId: string, onTakeover: TakeoverListener): void {
    this.listeners.set(proxyId, onTakeover);
  }

  notify(proxyId: string, clientId: string, epoch: number): Promise<void> {
    const listener = this.listeners.get(proxyId);
    if (listener !== undefined) setImmediate(() => listener(clientId, epoch));
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}

/** The message of a notice: `<epoch> <clientId>` (the client id last: it may hold any character). */
export function encodeTakeover(clientId: string, epoch: number): string {
  return `${epoch} ${clientId}`;
}

/** Reads a notice back; undefined for a message this scheme did not write. */
export function decodeTakeover(message: string): { clientId: string; epoch: number } | undefined {
  const space = message.indexOf(' ');
  if (space <= 0) return undefined;
  const epoch = Number(message.slice(0, space));
  if (!Number.isSafeInteger(epoch)) return undefined;
  return { clientId: message.slice(space + 1), epoch };
}

/** The longest delay setTimeout honours (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** A connected client as the registry sees it. */
export interface RegisteredClient {
  /** The epoch the client holds its session at; undefined until its session is open. */
  readonly epoch: number | undefined;
  /** Disconnects the client because another connection took its client id; resolves once its session is stored. */
  takeOver(): Promise<void>;
}

/**
 * The clients connected to this proxy by client id, and the delayed wills waiting to fire. A second
 * CONNECT with the same client id disconnects the first [MQTT-3.1.4-2].
 */
export class ClientRegistry {
  private readonly clients = new Map<string, RegisteredClient>();
  private readonly wills = new Map<string, { timer: NodeJS.Timeout; fire: () => void }>();

  /** Registers `client` under `clientId`, taking over (and awaiting) any client already there. */
  async claim(clientId: string, client: RegisteredClient): Promise<void> {
    for (;;) {
      const existing = this.clients.get(clientId);
      if (existing === undefined || existing === client) break;
      await existing.takeOver();
      // the old client unregisters itself; if it did not, remove it so we cannot loop
      if (this.clients.get(clientId) === existing) this.clients.delete(clientId);
    }
    this.clients.set(clientId, client);
  }

  /** Removes `client` if it is still the one registered under `clientId`. */
  release(clientId: string, client: RegisteredClient): void {
    if (this.clients.get(clientId) === client) this.clients.delete(clientId);
  }

  /** Whether `client` is the current holder of `clientId`. */
  holds(clientId: string, client: RegisteredClient): boolean {
    return this.clients.get(clientId) === client;
  }

  /**
   * Another proxy took `clientId` at `epoch` [MQTT-3.1.4-2]: disconnects the client here if it holds an older
   * epoch (a newer connection here, or a notice that arrives late, is left alone).
   */
  takenElsewhere(clientId: string, epoch: number): void {
    const client = this.clients.get(clientId);
    if (client?.epoch === undefined || client.epoch >= epoch) return;
    void client.takeOver();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Every connected client, e.g. to disconnect them on shutdown. */
  all(): RegisteredClient[] {
    return [...this.clients.values()];
  }

  /** Fires `fire` after `delayMs` unless the will is cancelled or replaced first [MQTT-3.1.3-9]. */
  scheduleWill(clientId: string, delayMs: number, fire: () => void): void {
    this.cancelWill(clientId);
    if (delayMs <= 0) {
      fire();
      return;
    }
    this.armWill(clientId, Date.now() + delayMs, fire);
  }

  /**
   * Arms the timer of a will due at `dueMs`; setTimeout takes at most 2^31 - 1 ms (24.8 days), so a longer delay
   * is reached in steps instead of firing at once.
   */
  private armWill(clientId: string, dueMs: number, fire: () => void): void {
    const waitMs = dueMs - Date.now();
    const timer = setTimeout(() => {
      if (dueMs > Date.now()) {
        this.armWill(clientId, dueMs, fire);
        return;
      }
      this.wills.delete(clientId);
      fire();
    }, Math.min(Math.max(waitMs, 0), MAX_TIMER_MS));
    timer.unref();
    this.wills.set(clientId, { timer, fire });
  }

  /** Drops a pending will (the session was resumed in time). */
  cancelWill(clientId: string): void {
    const pending = this.wills.get(clientId);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.wills.delete(clientId);
  }

  /** Fires a pending will now (its session ended before the delay passed). */
  fireWillNow(clientId: string): void {
    const pending = this.wills.get(clientId);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.wills.delete(clientId);
    pending.fire();
  }

  /** Fires every pending will: the proxy is shutting down and their sessions end with it. */
  close(): void {
    for (const clientId of [...this.wills.keys()]) this.fireWillNow(clientId);
  }
}

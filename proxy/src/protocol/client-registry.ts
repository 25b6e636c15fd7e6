/** A connected client as the registry sees it. */
export interface RegisteredClient {
  /** The epoch the client holds its session at; undefined until its session is open. */
  readonly epoch: number | undefined;
  /** Disconnects the client because another connection took its client id; resolves once its session is stored. */
  takeOver(): Promise<void>;
}

/**
 * The clients connected to this proxy by client id. A second CONNECT with the same client id disconnects the
 * first [MQTT-3.1.4-2]. (Delayed wills wait in the session store's shared expiry index, not here.)
 */
export class ClientRegistry {
  private readonly clients = new Map<string, RegisteredClient>();

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
}

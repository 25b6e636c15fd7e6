/**
 * Hands out Packet Identifiers for outbound QoS 1/2 PUBLISHes: non-zero, unused while in flight
 * [MQTT-2.2.1-3], cycling through 1..65535.
 */
export class PacketIdAllocator {
  private next = 1;
  private readonly used = new Set<number>();

  /** Returns a free identifier, or undefined when all 65535 are in use. */
  allocate(): number | undefined {
    if (this.used.size >= 65_535) return undefined;
    while (this.used.has(this.next)) this.advance();
    const id = this.next;
    this.used.add(id);
    this.advance();
    return id;
  }

  /** Marks an identifier as taken (e.g. when a session with in-flight messages is resumed). */
  reserve(id: number): void {
    this.used.add(id);
  }

  /** Frees an identifier once its flow completed. */
  release(id: number): void {
    this.used.delete(id);
  }

  get inUse(): number {
    return this.used.size;
  }

  private advance(): void {
    this.next = this.next === 65_535 ? 1 : this.next + 1;
  }
}

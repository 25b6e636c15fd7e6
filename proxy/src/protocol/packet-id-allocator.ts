/**
 * Hands out Packet Identifiers for outbound QoS 1/2 PUBLISHes: non-zero, unused while in flight
 * [MQTT-2.2.1-3], cycling through 1..65535.
 */
export class PacketIdAllocator {
  private next = 1;
  /** Made at the first allocation: a session that never sends QoS 1/2 holds none. */
  private used: Set<number> | undefined;

  /** Returns a free identifier, or undefined when all 65535 are in use. */
  allocate(): number | undefined {
    const used = (this.used ??= new Set());
    if (used.size >= 65_535) return undefined;
    while (used.has(this.next)) this.advance();
    const id = this.next;
    used.add(id);
    this.advance();
    return id;
  }

  /** Marks an identifier as taken (e.g. when a session with in-flight messages is resumed). */
  reserve(id: number): void {
    (this.used ??= new Set()).add(id);
  }

  /** Frees an identifier once its flow completed. */
  release(id: number): void {
    this.used?.delete(id);
  }

  get inUse(): number {
    return this.used?.size ?? 0;
  }

  private advance(): void {
    this.next = this.next === 65_535 ? 1 : this.next + 1;
  }
}

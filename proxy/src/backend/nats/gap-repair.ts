// When a shard's connection drops and comes back (a restarted server, a killed stream leader, a network blip), the
// messages its stream stored meanwhile were re-published to nobody here: core NATS subscriptions do not queue.
// GapRepair closes that hole for every interest the shard serves: from the largest sequence delivered before the
// drop, it reads the stored messages matching each interest and hands them over, holding the live messages that
// arrive meanwhile and releasing them in order once the interest caught up. While a shard is repaired, the
// sequence it reports as delivered stays at the drop, so no session cursor moves past a message not yet delivered.
import type { DeliveredMessage } from '../message.js';
import type { DeliveryHandler, InterestKey, StoredBatch } from '../message-backend.js';

/** One interest as the repair sees it. */
export interface RepairTarget {
  readonly key: InterestKey;
  /** Hands a message to the interest (and counts its sequence as delivered). */
  readonly deliver: DeliveryHandler;
}

export interface GapRepairDeps {
  /** Reads stored messages of a shard matching one filter after a sequence. */
  read(shardId: string, filter: string, afterSequence: number): Promise<Omit<StoredBatch, 'firstSequence'>>;
  /** The largest sequence delivered from a shard so far (undefined: none). */
  deliveredThrough(shardId: string): number | undefined;
  /** Stops / restarts reporting delivered sequences of a shard (see the module comment). */
  freeze(shardId: string, at: number): void;
  thaw(shardId: string): void;
  readonly log: { warn(fields: object, message: string): void };
  /** Wait before trying again after a failed read. */
  readonly retryMs: number;
  /** Live messages held per interest before they are let go (and read from the stream instead). */
  readonly holdMax: number;
}

interface Held {
  messages: DeliveredMessage[];
  overflowed: boolean;
}

interface Repair {
  readonly from: number;
  /** Interests still being repaired, with what arrived live for them meanwhile. */
  readonly pending: Map<RepairTarget, Held>;
  running: boolean;
}

export class GapRepair {
  private readonly repairs = new Map<string, Repair>();

  constructor(private readonly deps: GapRepairDeps) {}

  /** The shard's connection dropped: remember where delivery stopped (the repair starts when it is back). */
  interrupted(shardId: string, targets: readonly RepairTarget[]): void {
    if (this.repairs.has(shardId)) return;
    const from = this.deps.deliveredThrough(shardId);
    if (from === undefined) return; // nothing delivered from it yet: nothing to fill in
    this.deps.freeze(shardId, from);
    const pending = new Map(targets.map((t): [RepairTarget, Held] => [t, { messages: [], overflowed: false }]));
    this.repairs.set(shardId, { from, pending, running: false });
  }

  /** The shard is connected again: repair every interest that was waiting. */
  resumed(shardId: string): void {
    const repair = this.repairs.get(shardId);
    if (repair === undefined || repair.running) return;
    repair.running = true;
    void this.run(shardId, repair);
  }

  /** Whether a live message must wait behind the repair (and holds it if so). */
  hold(target: RepairTarget, message: DeliveredMessage): boolean {
    const held = this.repairs.get(message.shardId)?.pending.get(target);
    if (held === undefined || message.sequence === undefined) return false;
    if (held.overflowed) return true;
    if (held.messages.length >= this.deps.holdMax) {
      held.messages = [];
      held.overflowed = true;
    } else held.messages.push(message);
    return true;
  }

  /** An interest went away: nothing more to repair for it. */
  forget(target: RepairTarget): void {
    for (const repair of this.repairs.values()) repair.pending.delete(target);
  }

  /** Shards being repaired. */
  get active(): number {
    return this.repairs.size;
  }

  private async run(shardId: string, repair: Repair): Promise<void> {
    for (const [target, held] of [...repair.pending]) {
      if (!repair.pending.has(target)) continue; // removed meanwhile
      const done = await this.repairInterest(shardId, repair.from, target, held);
      if (!done) return; // the shard dropped again: retried when it is back
      repair.pending.delete(target);
    }
    this.repairs.delete(shardId);
    this.deps.thaw(shardId);
  }

  /** Fills in one interest; false when the shard could not be read (the repair then waits for the next resume). */
  private async repairInterest(shardId: string, from: number, target: RepairTarget, held: Held): Promise<boolean> {
    let after = from;
    for (;;) {
      let batch: Omit<StoredBatch, 'firstSequence'>;
      try {
        batch = await this.deps.read(shardId, target.key.filter, after);
      } catch (err: unknown) {
        this.deps.log.warn({ err, shardId, filter: target.key.filter }, 'gap after a shard reconnect not read yet; retrying');
        const repair = this.repairs.get(shardId);
        if (repair !== undefined) repair.running = false;
        setTimeout(() => this.resumed(shardId), this.deps.retryMs).unref();
        return false;
      }
      for (const message of batch.messages) target.deliver(message);
      after = batch.readThrough;
      if (!batch.end) continue;
      if (!held.overflowed) break;
      held.overflowed = false; // what was let go is in the stream: read on
    }
    for (const message of held.messages) if ((message.sequence ?? 0) > after) target.deliver(message);
    held.messages = [];
    return true;
  }
}

// When a shard's connection drops and comes back (a restarted server, a killed stream leader, a network blip), the
// messages its stream stored meanwhile were re-published to nobody here: core NATS subscriptions do not queue.
// GapRepair closes that hole for every interest the shard serves: from the largest sequence delivered before the
// drop, it reads the stored messages matching each interest and hands them over, holding the live messages that
// arrive meanwhile and releasing them in order once the interest caught up. While a shard is repaired, the
// sequence it reports as delivered stays at the drop, so no session cursor moves past a message not yet delivered.
import type { DeliveredMessage } from '../message.js';
import { interestId, type DeliveryHandler, type InterestKey, type StoredBatch } from '../message-backend.js';
import { ReplayBuffer } from '../replay-buffer.js';

/** One interest as the repair sees it. */
export interface RepairTarget {
  readonly key: InterestKey;
  /** Hands a message to the interest (and counts its sequence as delivered). */
  readonly deliver: DeliveryHandler;
}

export interface GapRepairDeps {
  /** Reads stored messages of a shard matching one filter after a sequence. */
  read(shardId: string, filter: string, afterSequence: number): Promise<StoredBatch>;
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

interface Repair {
  readonly from: number;
  /** Interests still being repaired. */
  readonly pending: Set<RepairTarget>;
  /** What arrived live for them meanwhile, by interest id. */
  readonly held: ReplayBuffer<RepairTarget>;
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
    this.repairs.set(shardId, { from, pending: new Set(targets), held: new ReplayBuffer(this.deps.holdMax), running: false });
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
    if (this.repairs.size === 0) return false; // the usual case: no lookup per message
    const repair = this.repairs.get(message.shardId);
    if (repair?.pending.has(target) !== true || message.sequence === undefined) return false;
    repair.held.hold(interestId(target.key), target, message);
    return true;
  }

  /** An interest went away: nothing more to repair for it. */
  forget(target: RepairTarget): void {
    for (const repair of this.repairs.values()) {
      if (repair.pending.delete(target)) repair.held.release(interestId(target.key), Number.POSITIVE_INFINITY);
    }
  }

  /** Shards being repaired. */
  get active(): number {
    return this.repairs.size;
  }

  private async run(shardId: string, repair: Repair): Promise<void> {
    for (const target of [...repair.pending]) {
      if (!repair.pending.has(target)) continue; // removed meanwhile
      const done = await this.repairInterest(shardId, repair, target);
      if (!done) return; // the shard dropped again: retried when it is back
      repair.pending.delete(target);
    }
    this.repairs.delete(shardId);
    this.deps.thaw(shardId);
  }

  /** Fills in one interest; false when the shard could not be read (the repair then waits for the next resume). */
  private async repairInterest(shardId: string, repair: Repair, target: RepairTarget): Promise<boolean> {
    const id = interestId(target.key);
    let after = repair.from;
    for (;;) {
      let batch: StoredBatch;
      try {
        batch = await this.deps.read(shardId, target.key.filter, after);
      } catch (err: unknown) {
        this.deps.log.warn({ err, shardId, filter: target.key.filter }, 'gap after a shard reconnect not read yet; retrying');
        repair.running = false;
        setTimeout(() => this.resumed(shardId), this.deps.retryMs).unref();
        return false;
      }
      for (const message of batch.messages) target.deliver(message);
      after = batch.readThrough;
      // what was let go is in the stream: read on
      if (batch.end && !repair.held.takeOverflow(id)) break;
    }
    for (const [, message] of repair.held.release(id, after)) target.deliver(message);
    return true;
  }
}

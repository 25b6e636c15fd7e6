// The operator's view of the retained copy of a ring transition (docs/operations.md "Retained messages of moved
// topics"): an injected RetainedCopier copies, once per ring version, the retained messages whose topic changed
// owner (main.ts wires in the NATS implementation, the unit tests a fake).
import type { RetainedCopyReport } from '@shoal/proxy/internal';

export type { RetainedCopyReport };

/** What to copy: the two rings of a transition, and where to dial each shard. */
export interface RetainedCopyRequest {
  readonly previous: unknown;
  readonly current: unknown;
  readonly urlsOf: (shardId: string) => readonly string[];
}

export interface RetainedCopier {
  /**
   * Copies for ring `key` (`<namespace>/<cluster>@<version>`) unless that was done already; resolves with the
   * report, or undefined when it was. Rejects when a shard cannot be read or written (the next pass retries).
   */
  copyOnce(key: string, request: RetainedCopyRequest): Promise<RetainedCopyReport | undefined>;
}

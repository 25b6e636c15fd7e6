import type { Logger } from 'pino';
import { BackendUnavailableError } from '../errors.js';
import type { MessageRouter, ProtocolMetrics } from './ports.js';
import type { Session } from './session.js';

export interface ReplayDeps {
  readonly router: MessageRouter;
  readonly metrics: ProtocolMetrics;
  readonly log: Logger;
  /** Messages per read. */
  readonly batchSize: number;
  /** Wait before reading again from a shard that could not be read. */
  readonly retryMs: number;
}

/**
 * The shards a resumed session replays: those its filters route to, and those it holds a cursor on that are still
 * in the ring (a topic that moved keeps its older messages on its former owner). Marks them replaying, so live
 * messages from them are held; call before the session's subscriptions go live.
 */
export function beginOfflineReplay(session: Session, router: MessageRouter): string[] {
  const filters = session.replayFilters();
  if (filters.length === 0) return [];
  const inRing = new Set(router.storedShards(['#']));
  const shards = new Set(router.storedShards(filters));
  for (const shardId of session.cursors.knownShards()) if (inRing.has(shardId)) shards.add(shardId);
  for (const shardId of shards) session.cursors.beginReplay(shardId, session.cursors.storedCursor(shardId) ?? 0);
  return [...shards];
}

/**
 * Offline delivery of a resumed persistent session: for each shard, the stored messages after its cursor that
 * match its subscriptions, read in batches (paced by the outbound queue), then the live messages held meanwhile,
 * then live delivery. A cursor behind what retention kept is a gap: logged and counted, never silent. Stops when
 * the connection goes; the cursor then stays where the replay got to.
 */
export async function replayOffline(session: Session, shards: readonly string[], deps: ReplayDeps): Promise<void> {
  const filters = session.replayFilters();
  await Promise.all(shards.map((shardId) => replayShard(session, shardId, filters, deps)));
}

/** A cursor behind what retention kept is a gap: logged and counted, never silent. */
function checkRetention(session: Session, shardId: string, cursor: number, firstSequence: number, deps: ReplayDeps): void {
  if (firstSequence <= cursor + 1) return;
  const missed = firstSequence - cursor - 1;
  deps.metrics.offlineGap(missed);
  deps.log.warn({ clientId: session.clientId, shardId, cursor, firstSequence, missed }, 'offline messages lost to retention');
}

async function replayShard(session: Session, shardId: string, filters: readonly string[], deps: ReplayDeps): Promise<void> {
  let after = session.cursors.storedCursor(shardId) ?? 0;
  let checkedRetention = false;
  let replayed = 0;
  for (;;) {
    await session.outbound.whenRoom();
    if (!session.isAttached()) return;
    let batch;
    try {
      // the first sequence once, before the first read: what retention removes meanwhile reads as missing
      if (!checkedRetention) checkRetention(session, shardId, after, await deps.router.firstStoredSequence(shardId), deps);
      checkedRetention = true;
      batch = await deps.router.readStored({ shardId, filters, afterSequence: after, limit: deps.batchSize });
    } catch (err: unknown) {
      if (!(err instanceof BackendUnavailableError)) throw err;
      deps.log.warn({ err: err.message, clientId: session.clientId, shardId }, 'offline messages not read; retrying');
      await new Promise((resolve) => setTimeout(resolve, deps.retryMs).unref());
      continue;
    }
    if (!session.isAttached()) return;
    session.deliverReplayed(batch.messages);
    replayed += batch.messages.length;
    after = batch.readThrough;
    session.cursors.replayedThrough(shardId, after);
    if (batch.end && !session.replayBuffer.takeOverflow(shardId)) break;
  }
  session.finishReplay(shardId, after);
  if (replayed > 0) deps.metrics.offlineReplayed(replayed);
}

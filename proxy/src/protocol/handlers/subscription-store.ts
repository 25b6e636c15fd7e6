import { StaleSessionError } from '../../sessions/session-errors.js';
import type { SubscriptionChange, SubscriptionRecord } from '../../sessions/session-store.js';
import type { ClientHandler } from '../client-handler.js';
import { parseSharedSubscription } from '../topics.js';

// A persistent session's subscriptions are written to the store as they change (before SUBACK / UNSUBACK), so a
// session whose proxy dies resumes elsewhere with them; a new subscription's offline cursors start at the shards'
// current position. A store that cannot be reached does not fail the subscription: it is live here, and written
// with the whole session when the connection leaves.

/** Starts the cursors of the shards new subscriptions route to, then writes the subscriptions. */
export async function storeSubscribed(client: ClientHandler, records: readonly SubscriptionRecord[]): Promise<void> {
  const { session } = client;
  if (!client.persistent || session === undefined || records.length === 0) return;
  const { router, log } = client.ctx;
  const filters = records.filter((r) => parseSharedSubscription(r.topicFilter) === undefined).map((r) => r.topicFilter);
  const fresh = router.storedShards(filters).filter((shardId) => session.cursors.storedCursor(shardId) === undefined);
  const started: Record<string, number> = {};
  await Promise.all(
    fresh.map(async (shardId) => {
      try {
        const floor = await router.sequenceFloor(shardId);
        if (session.cursors.startLive(shardId, floor)) started[shardId] = floor;
      } catch (err: unknown) {
        log.warn({ err, clientId: client.clientId, shardId }, 'offline cursor not started; the shard is unreachable');
      }
    }),
  );
  await write(client, async (epoch) => {
    if (Object.keys(started).length > 0) await client.ctx.sessions.updateCursors(client.clientId, epoch, started);
    await client.ctx.sessions.updateSubscriptions(client.clientId, epoch, { put: records });
  });
}

/** Removes subscriptions from the stored session. */
export async function storeUnsubscribed(client: ClientHandler, filters: readonly string[]): Promise<void> {
  if (!client.persistent || filters.length === 0) return;
  const change: SubscriptionChange = { remove: filters };
  await write(client, (epoch) => client.ctx.sessions.updateSubscriptions(client.clientId, epoch, change));
}

async function write(client: ClientHandler, work: (epoch: number) => Promise<void>): Promise<void> {
  const epoch = client.epoch;
  if (epoch === undefined) return;
  try {
    await work(epoch);
  } catch (err: unknown) {
    // taken over: the newer connection owns the session now and this one is being closed
    if (err instanceof StaleSessionError) return;
    client.ctx.log.warn({ err, clientId: client.clientId }, 'subscription change not stored; stored when the connection leaves');
  }
}

import { StaleSessionError } from '../sessions/session-errors.js';
import type { ClientHandler } from './client-handler.js';
import { willMessage, type Will } from './will.js';

/**
 * What a connection that got as far as CONNACK leaves behind when it closes: its will (published now, left in the
 * store for its delay, or dropped when a normal DISCONNECT removed it [MQTT-3.1.2-8]) and then its session (saved
 * or deleted). Resolves once both are done; never rejects (every failure is logged).
 */
export async function leaveSession(client: ClientHandler): Promise<void> {
  const will = client.will;
  if (will !== undefined) await leaveWill(client, will);
  else if (client.willArmed) await dropArmedWill(client);
  await storeSession(client);
}

/** A normal close: the will armed at CONNECT must not fire [MQTT-3.14.4-3]. */
async function dropArmedWill(client: ClientHandler): Promise<void> {
  if (client.epoch === undefined) return;
  try {
    await client.ctx.sessions.cancelWill(client.clientId, client.epoch);
  } catch (err: unknown) {
    if (!(err instanceof StaleSessionError)) client.ctx.log.warn({ err, clientId: client.clientId }, 'armed will not dropped');
  }
}

/**
 * Publishes the will now, or leaves it in the session store's expiry index for its delay [MQTT-3.1.3-9]: any proxy
 * publishes it when it is due, unless the session is resumed first (the store's `open` drops it then, or hands it
 * back at once when a clean start ends the session). A newer connection that already took the session means no
 * will; a store that cannot be reached means the will is published now rather than lost.
 */
async function leaveWill(client: ClientHandler, will: Will): Promise<void> {
  const { sessions, router, clock, log } = client.ctx;
  const sessionSeconds = client.persistent ? (client.session?.expiryIntervalSeconds ?? 0) : 0;
  const delayMs = Math.min(will.delaySeconds, sessionSeconds) * 1000;
  if (delayMs > 0 && client.epoch !== undefined) {
    const nowMs = clock.now();
    try {
      await sessions.scheduleWill(client.clientId, client.epoch, nowMs + delayMs, will, nowMs);
      return;
    } catch (err: unknown) {
      if (err instanceof StaleSessionError) {
        log.debug({ clientId: client.clientId }, 'session taken over before its will was left; no will');
        return;
      }
      log.warn({ err, clientId: client.clientId }, 'delayed will not stored; published now');
    }
  } else if (client.willArmed) {
    await dropArmedWill(client); // published here and now, not again by whoever resumes or ends the session
  }
  // not awaited: a takeover waits for `closed`, not for the shard to store the will
  router.publish(willMessage(will, clock.now()), { messageId: client.ctx.nextMessageId() }).catch((err: unknown) => {
    log.warn({ err, topic: will.message.topic }, 'will not published');
  });
}

/**
 * Leaves the session in the store as this connection ends it: saved with its expiry when it outlives the
 * connection, deleted otherwise. A newer connection (anywhere in the fleet) holding a later epoch makes the
 * write stale: that is a takeover, and the newer session stays as it is.
 */
async function storeSession(client: ClientHandler): Promise<void> {
  if (client.session === undefined || client.epoch === undefined) return;
  const { sessions, clock, log } = client.ctx;
  try {
    if (client.persistent) await sessions.save(client.session.toRecord(client.conn.protocolVersion), client.epoch, clock.now());
    else await sessions.delete(client.clientId, client.epoch);
  } catch (err: unknown) {
    if (err instanceof StaleSessionError) log.debug({ clientId: client.clientId }, 'session taken over; not stored');
    else log.error({ err, clientId: client.clientId }, 'session not stored');
  }
}

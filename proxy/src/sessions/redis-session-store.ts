import { Redis } from 'ioredis';
import { OwnerSets } from './owner-sets.js';
import { BackendUnavailableError } from '../errors.js';
import type { Will } from '../protocol/will.js';
import {
  DEFAULT_EXPIRY_BUCKETS,
  expiryBucketKey,
  expiryBucketOf,
  expiryMember,
  ownerKey,
  parseExpiryMember,
  PROXY_REGISTRY_KEY,
  sessionKeys,
  type ExpiryKind,
} from './redis-keys.js';
import { CLAIMED, EXPIRED, FENCED, HEARTBEAT, isFenced, isOpened, OPENED, ORPHANED, parseReply, TAKEN_WILL } from './redis-replies.js';
import { SCRIPT_SHAS, SESSION_SCRIPTS, type SessionScriptName } from './redis-scripts.js';
import { decodeSession, decodeWill, encodeState, encodeSubscription, encodeWill } from './session-codec.js';
import { CorruptSessionError, StaleSessionError } from './session-errors.js';
import {
  SESSION_NEVER_EXPIRES,
  type DueEntry,
  type Heartbeat,
  type OpenedSession,
  type OpenOptions,
  type SessionCursors,
  type SessionRecord,
  type SessionStore,
  type SubscriptionChange,
} from './session-store.js';

export interface RedisSessionStoreOptions {
  /** `redis://[user:password@]host:port[/db]` of a standalone server. */
  readonly url: string;
  /** A command not answered in this time fails with BackendUnavailableError (it waits this long for a reconnect). Default 1,000. */
  readonly commandTimeoutMs?: number;
  /** Default 2,000. */
  readonly connectTimeoutMs?: number;
  /** Expiry index buckets; the same on every proxy of a fleet. Default DEFAULT_EXPIRY_BUCKETS. */
  readonly expiryBuckets?: number;
  /**
   * How long Redis keeps a session past its expiry, and a will past its due time, for a proxy to claim them from
   * the expiry index (the index does the expiring; the TTL only cleans up when no proxy ran). Default 1 h.
   */
  readonly expiryGraceMs?: number;
  /** How long the epoch of a deleted or expired session is remembered (a tombstone). Default 10 min. */
  readonly tombstoneMs?: number;
}

type ScriptArg = string | number;

/** [a, 1, b, 2] → [[a, 1], [b, 2]] (HGETALL, WITHSCORES). */
function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] ?? '', flat[i + 1] ?? '']);
  return out;
}

/** The session store of a fleet: every proxy shares it. See SessionStore for the contract, redis-scripts.ts for the scripts. */
export class RedisSessionStore implements SessionStore {
  private readonly redis: Redis;
  private readonly buckets: number;
  private readonly graceMs: number;
  private readonly tombstoneMs: number;
  /** SADD/SREM of the owner sets, coalesced (owner-sets.ts). */
  private readonly owners: OwnerSets;
  private nextBucket = 0;

  constructor(options: RedisSessionStoreOptions) {
    this.buckets = options.expiryBuckets ?? DEFAULT_EXPIRY_BUCKETS;
    this.graceMs = options.expiryGraceMs ?? 3_600_000;
    this.tombstoneMs = options.tombstoneMs ?? 600_000;
    this.redis = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? 1_000,
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      maxRetriesPerRequest: 1,
      disconnectTimeout: 200, // close() need not wait 2 s for a socket that never connected
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
      // the commands of one event-loop turn (many CONNECTs at once) go out in one write
      enableAutoPipelining: true,
    });
    this.redis.on('error', () => undefined); // failures surface as rejected commands; reconnecting is ioredis's job
    this.owners = new OwnerSets({ sadd: (key, members) => this.redis.sadd(key, ...members), srem: (key, members) => this.redis.srem(key, ...members) });
  }

  /** Whether the connection to Redis is up (for readiness). */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  async open(clientId: string, options: OpenOptions): Promise<OpenedSession> {
    const k = sessionKeys(clientId);
    const keys = [k.session, k.subscriptions, k.cursors, k.will];
    const args = [options.cleanStart ? '1' : '0', options.proxyId, options.nowMs, options.protocolVersion, options.expiryIntervalSeconds];
    // the owner's set names the sessions to orphan if this proxy dies (sent with the script: one round trip)
    const owned = this.call(() => this.owners.add(ownerKey(options.proxyId), clientId));
    const [scripted] = await Promise.all([this.run('shoalOpen', keys, args), owned]);
    const reply = parseReply(OPENED, clientId, scripted, isOpened);
    const [epoch, owner, endedWill] = reply;
    // a takeover: the previous owner no longer holds it
    if (owner !== '' && owner !== options.proxyId) this.owners.remove(ownerKey(owner), clientId);
    const opened = {
      epoch,
      ...(owner === '' ? {} : { previousOwner: owner }),
      ...(endedWill === '' ? {} : { endedWill: decodeWill(clientId, endedWill) }),
    };
    if (reply[3] === 0) return { ...opened, record: undefined };
    const [, , , , protocolVersion, expiryIntervalSeconds, state, subscriptions, cursors] = reply;
    const raw = { protocolVersion, expiryIntervalSeconds, state: state === '' ? undefined : state, subscriptions: pairs(subscriptions), cursors: pairs(cursors) };
    return { ...opened, record: decodeSession(clientId, raw) };
  }

  async save(record: SessionRecord, epoch: number, nowMs: number): Promise<void> {
    const { clientId, expiryIntervalSeconds } = record;
    if (expiryIntervalSeconds === 0) return this.delete(clientId, epoch);
    const never = expiryIntervalSeconds >= SESSION_NEVER_EXPIRES;
    const expiresAtMs = nowMs + expiryIntervalSeconds * 1000;
    const k = sessionKeys(clientId);
    const args: ScriptArg[] = [epoch, nowMs, record.protocolVersion, expiryIntervalSeconds];
    args.push(never ? '' : expiresAtMs, never ? '' : expiryIntervalSeconds * 1000 + this.graceMs, encodeState(record));
    args.push(record.subscriptions.length, ...record.subscriptions.flatMap((s) => [s.topicFilter, encodeSubscription(s)]));
    args.push(...Object.entries(record.cursors).flat());
    this.leaveOwner(clientId, await this.fenced(clientId, epoch, 'shoalSave', [k.session, k.subscriptions, k.cursors], args));
    // after the fenced write only: a stale proxy must not move the entry of the session's current owner
    if (!never) await this.enqueue('session', clientId, expiresAtMs);
  }

  async delete(clientId: string, epoch: number): Promise<void> {
    const k = sessionKeys(clientId);
    this.leaveOwner(clientId, await this.fenced(clientId, epoch, 'shoalDelete', [k.session, k.subscriptions, k.cursors], [epoch, this.tombstoneMs]));
  }

  /** The session is no longer connected through `owner` (from SAVE or DELETE): drop it from the owner's set (later: owner-sets.ts). */
  private leaveOwner(clientId: string, owner: string | undefined): void {
    if (owner !== undefined && owner !== '') this.owners.remove(ownerKey(owner), clientId);
  }

  async updateSubscriptions(clientId: string, epoch: number, change: SubscriptionChange): Promise<void> {
    const put = change.put ?? [];
    const args = [epoch, put.length, ...put.flatMap((s) => [s.topicFilter, encodeSubscription(s)]), ...(change.remove ?? [])];
    const k = sessionKeys(clientId);
    await this.fenced(clientId, epoch, 'shoalUpdateHash', [k.session, k.subscriptions], args);
  }

  async updateCursors(clientId: string, epoch: number, cursors: SessionCursors): Promise<void> {
    const entries = Object.entries(cursors);
    const k = sessionKeys(clientId);
    await this.fenced(clientId, epoch, 'shoalUpdateHash', [k.session, k.cursors], [epoch, entries.length, ...entries.flat()]);
  }

  async scheduleWill(clientId: string, epoch: number, dueMs: number, will: Will, nowMs: number): Promise<void> {
    const k = sessionKeys(clientId);
    const ttlMs = Math.max(0, dueMs - nowMs) + this.graceMs;
    await this.fenced(clientId, epoch, 'shoalScheduleWill', [k.session, k.will], [epoch, dueMs, encodeWill(will), ttlMs]);
    await this.enqueue('will', clientId, dueMs);
  }

  async armWill(clientId: string, epoch: number, will: Will, delayMs: number): Promise<void> {
    const k = sessionKeys(clientId);
    await this.fenced(clientId, epoch, 'shoalArmWill', [k.session, k.will], [epoch, delayMs, encodeWill(will)]);
  }

  async cancelWill(clientId: string, epoch: number): Promise<void> {
    const k = sessionKeys(clientId);
    await this.fenced(clientId, epoch, 'shoalCancelWill', [k.session, k.will], [epoch]);
    await this.call(() => this.redis.zrem(expiryBucketKey(expiryBucketOf(clientId, this.buckets)), expiryMember('will', clientId)));
  }

  async claimDue(nowMs: number, limit: number): Promise<DueEntry[]> {
    const claimed: { kind: ExpiryKind; clientId: string; dueMs: number }[] = [];
    const first = this.nextBucket;
    this.nextBucket = (first + 1) % this.buckets;
    for (let i = 0; i < this.buckets && claimed.length < limit; i++) {
      const bucket = expiryBucketKey((first + i) % this.buckets);
      const reply = await this.run('shoalClaim', [bucket], [nowMs, limit - claimed.length]);
      for (const [member, score] of pairs(parseReply(CLAIMED, bucket, reply))) {
        const entry = parseExpiryMember(member);
        if (entry !== undefined) claimed.push({ ...entry, dueMs: Number(score) });
      }
    }
    const settled = await Promise.all(claimed.map(({ kind, clientId }) => (kind === 'will' ? this.takeWill(clientId, nowMs) : this.expireSession(clientId, nowMs))));
    return settled.filter((entry) => entry !== undefined);
  }

  async heartbeat(proxyId: string, nowMs: number, livenessMs: number): Promise<Heartbeat> {
    const reply = parseReply(HEARTBEAT, proxyId, await this.run('shoalHeartbeat', [PROXY_REGISTRY_KEY], [proxyId, nowMs, `(${nowMs - livenessMs}`]));
    const [known, ...dead] = reply;
    return { known: known === 1, dead: pairs(dead).map(([id, lastSeenMs]) => ({ proxyId: id, lastSeenMs: Number(lastSeenMs) })) };
  }

  async orphanSessions(proxyId: string, nowMs: number, limit: number): Promise<number> {
    const clientIds = await this.call(() => this.redis.spop(ownerKey(proxyId), limit));
    await Promise.all(clientIds.map((clientId) => this.orphan(clientId, proxyId, nowMs)));
    return clientIds.length;
  }

  private async orphan(clientId: string, proxyId: string, nowMs: number): Promise<void> {
    const k = sessionKeys(clientId);
    const keys = [k.session, k.subscriptions, k.cursors, k.will];
    const args = [proxyId, nowMs, this.graceMs, this.tombstoneMs, SESSION_NEVER_EXPIRES];
    const reply = parseReply(ORPHANED, clientId, await this.run('shoalOrphan', keys, args));
    if (reply[0] === 0) return;
    const [, , sessionDue, willDue] = reply;
    if (sessionDue !== '') await this.enqueue('session', clientId, sessionDue);
    if (willDue !== '') await this.enqueue('will', clientId, willDue);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.owners.flush();
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  private async takeWill(clientId: string, nowMs: number): Promise<DueEntry | undefined> {
    const k = sessionKeys(clientId);
    const reply = parseReply(TAKEN_WILL, clientId, await this.run('shoalTakeWill', [k.session, k.will], [nowMs]));
    if (reply[0] === 0) return undefined;
    if (reply[0] === 2) {
      await this.enqueue('will', clientId, Number(reply[1])); // moved later since it was queued
      return undefined;
    }
    const [, epoch, dueMs, text] = reply;
    try {
      return { kind: 'will', clientId, epoch: Number(epoch), dueMs: Number(dueMs), will: decodeWill(clientId, text) };
    } catch (err: unknown) {
      if (err instanceof CorruptSessionError) return { kind: 'corrupt', clientId, dueMs: Number(dueMs), error: err };
      throw err;
    }
  }

  private async expireSession(clientId: string, nowMs: number): Promise<DueEntry | undefined> {
    const k = sessionKeys(clientId);
    const reply = parseReply(EXPIRED, clientId, await this.run('shoalExpireSession', [k.session, k.subscriptions, k.cursors], [nowMs, this.tombstoneMs]));
    if (reply[0] === 0) return undefined;
    if (reply[0] === 2) {
      await this.enqueue('session', clientId, Number(reply[1])); // saved again since it was queued
      return undefined;
    }
    return { kind: 'session-expired', clientId, epoch: Number(reply[1]), dueMs: Number(reply[2]) };
  }

  /** Puts (or moves) the index entry. */
  private async enqueue(kind: ExpiryKind, clientId: string, dueMs: number): Promise<void> {
    const bucket = expiryBucketKey(expiryBucketOf(clientId, this.buckets));
    await this.call(() => this.redis.zadd(bucket, dueMs, expiryMember(kind, clientId)));
  }

  /** Runs a fenced script; resolves with what it answered beside success (SAVE and DELETE: the owner). */
  private async fenced(clientId: string, epoch: number, name: SessionScriptName, keys: string[], args: ScriptArg[]): Promise<string | undefined> {
    const reply = parseReply(FENCED, clientId, await this.run(name, keys, args), isFenced);
    if (reply[0] === 1) throw new StaleSessionError(clientId, epoch, reply[1] === '' ? undefined : Number(reply[1]));
    return reply[1];
  }

  /**
   * EVALSHA, and EVAL when the server does not have the script (new, or restarted): plain commands rather than
   * ioredis's defineCommand, whose wrappers (and the copy of every script into each auto-pipeline) cost more
   * than the command itself.
   */
  private async run(name: SessionScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    const { lua, numberOfKeys } = SESSION_SCRIPTS[name];
    try {
      return await this.redis.evalsha(SCRIPT_SHAS[name], numberOfKeys, ...keys, ...args);
    } catch (err: unknown) {
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw unavailable(err);
      return this.call(() => this.redis.eval(lua, numberOfKeys, ...keys, ...args));
    }
  }

  /** Any failure of Redis itself (down, timed out, refused) is a BackendUnavailableError. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err: unknown) {
      throw unavailable(err);
    }
  }
}

/** Any failure of Redis itself (down, timed out, refused) is a BackendUnavailableError. */
function unavailable(err: unknown): BackendUnavailableError {
  return new BackendUnavailableError('redis', err instanceof Error ? err.message : String(err), { cause: err });
}

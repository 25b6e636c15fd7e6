// The Lua scripts of the Redis session store: each runs atomically on the server, and each touches the keys of
// ONE cluster slot only, so they run unchanged on Redis Cluster: the session scripts get the keys of one session
// (all under the hash tag `{<clientId>}`, redis-keys.ts), the claim script one expiry bucket `{<n>}`. Keys are
// always passed in KEYS, never built inside a script. Numbers reach Redis from Lua as `%.17g` text, which is exact
// for integers below 2^53 (epochs and times in ms); `tostring` is never used on a number.
//
// Replies: a fenced script answers {0, ...} when the epoch matched and {1, <stored epoch or ''>} when it did not
// (nothing written). Absent strings are '' and absent lists {} (a nil would end a Lua array).

import { createHash } from 'node:crypto';

/** Rejects a write whose epoch is not the stored one. */
const FENCE = `
local function stale(key, epoch)
  local current = redis.call('HGET', key, 'epoch')
  if not current or tonumber(current) ~= tonumber(epoch) then return {1, current or ''} end
  return nil
end
local function sameTtl(from, to)
  local ttl = redis.call('PTTL', from)
  if ttl > 0 then redis.call('PEXPIRE', to, ttl) end
end
`;

/**
 * KEYS session, subs, cursors, will. ARGV cleanStart ('1'|'0'), proxyId, nowMs, protocolVersion, expirySeconds.
 * → {epoch, previousOwner, endedWill, 0} or {epoch, previousOwner, '', 1, protocolVersion, expirySeconds, state, subs, cursors}
 */
const OPEN = `
local now = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'epoch', 'owner', 'disconnectedAtMs', 'expiresAtMs', 'protocolVersion', 'expiryIntervalSeconds', 'state', 'lastEpoch')
local last = s[1] or s[8]
local epoch = now
if last then epoch = math.max(tonumber(last) + 1, now) end
local owner = ''
if s[2] and not s[3] then owner = s[2] end
local resume = ARGV[1] == '0' and s[6] and tonumber(s[6]) > 0 and (not s[4] or tonumber(s[4]) > now)
local will = redis.call('HGET', KEYS[4], 'will')
if will then redis.call('DEL', KEYS[4]) end
local reply
if resume then
  reply = {epoch, owner, '', 1, s[5], s[6], s[7] or '', redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3])}
  for k = 1, 3 do redis.call('PERSIST', KEYS[k]) end
  if s[3] or s[4] then redis.call('HDEL', KEYS[1], 'disconnectedAtMs', 'expiresAtMs') end
else
  reply = {epoch, owner, will or '', 0}
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) -- what is written next has no TTL
end
redis.call('HSET', KEYS[1], 'epoch', epoch, 'owner', ARGV[2], 'openedAtMs', ARGV[3], 'protocolVersion', ARGV[4], 'expiryIntervalSeconds', ARGV[5])
return reply
`;

/**
 * KEYS session, subs, cursors. ARGV epoch, nowMs, protocolVersion, expirySeconds, expiresAtMs ('' = never),
 * ttlMs ('' = none), state, subscription count n, then n × (filter, subscription), then (shard, sequence) pairs.
 * Fenced as FENCE does, in the same HMGET that reads the owner. → {0, owner}
 */
const SAVE = `
local s = redis.call('HMGET', KEYS[1], 'epoch', 'owner')
if not s[1] or tonumber(s[1]) ~= tonumber(ARGV[1]) then return {1, s[1] or ''} end
if ARGV[5] == '' then
  redis.call('HSET', KEYS[1], 'protocolVersion', ARGV[3], 'expiryIntervalSeconds', ARGV[4], 'state', ARGV[7], 'disconnectedAtMs', ARGV[2])
  redis.call('HDEL', KEYS[1], 'expiresAtMs')
else
  redis.call('HSET', KEYS[1], 'protocolVersion', ARGV[3], 'expiryIntervalSeconds', ARGV[4], 'state', ARGV[7], 'disconnectedAtMs', ARGV[2], 'expiresAtMs', ARGV[5])
end
redis.call('DEL', KEYS[2], KEYS[3])
local subsEnd = 9 + 2 * tonumber(ARGV[8])
for i = 9, subsEnd - 1, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
for i = subsEnd, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
if ARGV[6] == '' then
  redis.call('PERSIST', KEYS[1]) -- subs and cursors were just written anew: no TTL
else
  for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], ARGV[6]) end
end
return {0, s[2] or ''}
`;

/**
 * Leaves a tombstone: the session hash with only `lastEpoch`, for tombstoneMs. An open meanwhile still takes a larger
 * epoch; no write is accepted (there is no `epoch`). After it, epochs start again from the opener's clock.
 */
const TOMBSTONE = `
local function tombstone(session, subs, cursors, epoch, ttlMs)
  redis.call('DEL', session, subs, cursors)
  redis.call('HSET', session, 'lastEpoch', epoch)
  redis.call('PEXPIRE', session, ttlMs)
end
`;

/** KEYS session, subs, cursors. ARGV epoch, tombstoneMs. → {0, owner} (SAVE too: the owner's set drops the id). */
const DELETE = `${FENCE}${TOMBSTONE}
local rejected = stale(KEYS[1], ARGV[1])
if rejected then return rejected end
local owner = redis.call('HGET', KEYS[1], 'owner') or ''
tombstone(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
return {0, owner}
`;

/** KEYS session, hash (subs or cursors). ARGV epoch, put count n, n × (field, value), then fields to remove. */
const UPDATE_HASH = `${FENCE}
local rejected = stale(KEYS[1], ARGV[1])
if rejected then return rejected end
local putEnd = 3 + 2 * tonumber(ARGV[2])
for i = 3, putEnd - 1, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
for i = putEnd, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end
sameTtl(KEYS[1], KEYS[2])
return {0}
`;

/** KEYS session, will. ARGV epoch, dueMs, will, ttlMs (how long Redis keeps it unclaimed). */
const SCHEDULE_WILL = `${FENCE}
local rejected = stale(KEYS[1], ARGV[1])
if rejected then return rejected end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'epoch', ARGV[1], 'dueMs', ARGV[2], 'will', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {0}
`;

/** KEYS session, will. ARGV epoch, delayMs, will. An armed will: no due time (and no index entry) while connected. */
const ARM_WILL = `${FENCE}
local rejected = stale(KEYS[1], ARGV[1])
if rejected then return rejected end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'epoch', ARGV[1], 'dueMs', '', 'delayMs', ARGV[2], 'will', ARGV[3])
return {0}
`;

/** KEYS session, will. ARGV epoch. */
const CANCEL_WILL = `${FENCE}
local rejected = stale(KEYS[1], ARGV[1])
if rejected then return rejected end
redis.call('DEL', KEYS[2])
return {0}
`;

/** KEYS bucket. ARGV nowMs, limit. → {member, score, member, score, …}, each removed: claimed by this caller only. */
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #due, 2 do redis.call('ZREM', KEYS[1], due[i]) end
return due
`;

/**
 * KEYS session, will. ARGV nowMs. The will fires unless a newer connection took the session since it was left.
 * → {0} (nothing to publish) | {1, epoch, dueMs, will} (taken: publish it) | {2, dueMs} (not yet: re-queue)
 */
const TAKE_WILL = `
local w = redis.call('HMGET', KEYS[2], 'epoch', 'dueMs', 'will')
if not w[1] or w[2] == '' then return {0} end
local current = redis.call('HGET', KEYS[1], 'epoch')
if current and tonumber(current) ~= tonumber(w[1]) then
  redis.call('DEL', KEYS[2])
  return {0}
end
if tonumber(w[2]) > tonumber(ARGV[1]) then return {2, w[2]} end
redis.call('DEL', KEYS[2])
return {1, w[1], w[2], w[3]}
`;

/**
 * KEYS session, subs, cursors. ARGV nowMs, tombstoneMs. Removes the session if it is disconnected and expired.
 * → {0} (connected, never expires, or gone) | {1, epoch, expiresAtMs} (removed) | {2, expiresAtMs} (not yet: re-queue)
 */
const EXPIRE_SESSION = `${TOMBSTONE}
local s = redis.call('HMGET', KEYS[1], 'epoch', 'disconnectedAtMs', 'expiresAtMs')
if not s[1] or not s[2] or not s[3] then return {0} end
if tonumber(s[3]) > tonumber(ARGV[1]) then return {2, s[3]} end
tombstone(KEYS[1], KEYS[2], KEYS[3], s[1], ARGV[2])
return {1, s[1], s[3]}
`;

/**
 * KEYS registry. ARGV proxyId, nowMs, cutoff ('(' + nowMs - livenessMs). Records the heartbeat and claims (removes)
 * up to 16 proxies not heard from since the cutoff. → {1 if proxyId was registered else 0, dead, lastSeenMs, …}
 */
const HEARTBEAT = `
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[3], 'WITHSCORES', 'LIMIT', 0, 16)
for i = 1, #dead, 2 do redis.call('ZREM', KEYS[1], dead[i]) end
local reply = {known and 1 or 0}
for i = 1, #dead do reply[#reply + 1] = dead[i] end
return reply
`;

/**
 * KEYS session, subs, cursors, will. ARGV proxyId (dead), nowMs, graceMs, tombstoneMs, SESSION_NEVER_EXPIRES.
 * A session still connected through the dead proxy is disconnected now, as a save of what was last written; its
 * armed will becomes due after its delay. → {0} (not connected there) | {1, epoch, sessionDueMs|'', willDueMs|''}
 */
const ORPHAN = `${TOMBSTONE}
local s = redis.call('HMGET', KEYS[1], 'epoch', 'owner', 'disconnectedAtMs', 'expiryIntervalSeconds')
if not s[1] or s[2] ~= ARGV[1] or s[3] then return {0} end
local now = tonumber(ARGV[2])
local grace = tonumber(ARGV[3])
local willDue = ''
local w = redis.call('HMGET', KEYS[4], 'epoch', 'dueMs', 'delayMs')
if w[1] and tonumber(w[1]) == tonumber(s[1]) and w[2] == '' then
  willDue = now + tonumber(w[3])
  redis.call('HSET', KEYS[4], 'dueMs', willDue)
  redis.call('PEXPIRE', KEYS[4], tonumber(w[3]) + grace)
end
local expiry = tonumber(s[4] or '0')
if expiry == 0 then
  tombstone(KEYS[1], KEYS[2], KEYS[3], s[1], ARGV[4])
  return {1, s[1], '', willDue}
end
redis.call('HSET', KEYS[1], 'disconnectedAtMs', now)
if expiry >= tonumber(ARGV[5]) then return {1, s[1], '', willDue} end
local due = now + expiry * 1000
redis.call('HSET', KEYS[1], 'expiresAtMs', due)
for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], expiry * 1000 + grace) end
return {1, s[1], due, willDue}
`;

/** A script and how many of its arguments are keys. */
export interface LuaScript {
  readonly numberOfKeys: number;
  readonly lua: string;
}

export const SESSION_SCRIPTS = {
  shoalOpen: { numberOfKeys: 4, lua: OPEN },
  shoalSave: { numberOfKeys: 3, lua: SAVE },
  shoalDelete: { numberOfKeys: 3, lua: DELETE },
  shoalUpdateHash: { numberOfKeys: 2, lua: UPDATE_HASH },
  shoalScheduleWill: { numberOfKeys: 2, lua: SCHEDULE_WILL },
  shoalArmWill: { numberOfKeys: 2, lua: ARM_WILL },
  shoalCancelWill: { numberOfKeys: 2, lua: CANCEL_WILL },
  shoalClaim: { numberOfKeys: 1, lua: CLAIM },
  shoalTakeWill: { numberOfKeys: 2, lua: TAKE_WILL },
  shoalExpireSession: { numberOfKeys: 3, lua: EXPIRE_SESSION },
  shoalHeartbeat: { numberOfKeys: 1, lua: HEARTBEAT },
  shoalOrphan: { numberOfKeys: 4, lua: ORPHAN },
} as const satisfies Record<string, LuaScript>;

export type SessionScriptName = keyof typeof SESSION_SCRIPTS;

/** The SHA-1 of each script, as EVALSHA names it. */
export const SCRIPT_SHAS = Object.fromEntries(
  Object.entries(SESSION_SCRIPTS).map(([name, { lua }]) => [name, createHash('sha1').update(lua).digest('hex')]),
) as Record<SessionScriptName, string>;

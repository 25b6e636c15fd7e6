import { randomUUID } from 'node:crypto';
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import { authenticateConnect, revokeSubscriptions } from '../../auth/enforcement.js';
import type { Message } from '../../backend/message.js';
import { willMessage, type Will } from '../will.js';
import { ProtocolError } from '../../errors.js';
import { StaleSessionError } from '../../sessions/session-errors.js';
import { SESSION_NEVER_EXPIRES, type SessionRecord } from '../../sessions/session-store.js';
import type { ClientHandler } from '../client-handler.js';
import type { AdmissionPermit } from '../connect-admission.js';
import { PublishSender } from '../publish-sender.js';
import { ReasonCode } from '../reason-codes.js';
import { Session } from '../session.js';
import { beginOfflineReplay, replayOffline } from '../offline-replay.js';
import { InboundTopicAliases, NO_INBOUND_ALIASES } from '../topic-aliases.js';
import { validateTopicName } from '../topics.js';
import { refuseAboveConnectRate } from '../connect-rate-limit.js';
import { forwardedProperties } from './publish.js';

/** Longest client identifier accepted, in characters (the spec requires at least 23 [MQTT-3.1.3-5]). */
const MAX_CLIENT_ID_LENGTH = 256;

/** What CONNECT negotiated, before the session is opened. */
interface Negotiated {
  readonly clientId: string;
  readonly assignedClientId: boolean;
  readonly cleanStart: boolean;
  readonly sessionExpirySeconds: number;
  readonly keepaliveSeconds: number;
  readonly serverKeepAlive: number | undefined;
}

function checkProtocol(client: ClientHandler, packet: IConnectPacket): void {
  const version = packet.protocolVersion ?? 4;
  client.conn.protocolVersion = version === 5 ? 5 : version === 3 ? 3 : 4;
  if (packet.properties?.authenticationMethod !== undefined) {
    // enhanced authentication is not offered [MQTT-4.12.0-1]
    throw new ProtocolError(ReasonCode.BadAuthenticationMethod, 'authentication method not supported');
  }
}

function negotiate(client: ClientHandler, packet: IConnectPacket): Negotiated {
  const isV5 = client.isV5;
  const cleanStart = packet.clean !== false;
  let clientId = packet.clientId;
  let assignedClientId = false;
  if (clientId === '') {
    // [MQTT-3.1.3-7] [MQTT-3.1.3-8] a v3.1.1 client with an empty id must ask for a clean session
    if (!isV5 && !cleanStart) throw new ProtocolError(ReasonCode.ClientIdentifierNotValid, 'empty client id needs clean session');
    clientId = `shoal-${randomUUID()}`; // [MQTT-3.1.3-6]
    assignedClientId = true;
  }
  if (clientId.length > MAX_CLIENT_ID_LENGTH || clientId.includes('\u0000') || clientId.includes('\ufffd')) {
    throw new ProtocolError(ReasonCode.ClientIdentifierNotValid, 'client id not accepted');
  }
  // v3: clean=false means the session never expires; v5: Session Expiry Interval (absent = 0) [MQTT-3.1.2-11]
  const sessionExpirySeconds = isV5 ? (packet.properties?.sessionExpiryInterval ?? 0) : cleanStart ? 0 : SESSION_NEVER_EXPIRES;
  return { clientId, assignedClientId, cleanStart, sessionExpirySeconds, ...keepaliveOf(client, packet) };
}

/** The keepalive in force, and the Server Keep Alive announced when the bound replaced the client's (v5) [MQTT-3.2.2-21]. */
function keepaliveOf(client: ClientHandler, packet: IConnectPacket): Pick<Negotiated, 'keepaliveSeconds' | 'serverKeepAlive'> {
  const maxKeepalive = client.ctx.limits.maxKeepaliveSeconds;
  const requested = packet.keepalive ?? 0;
  const bounded = client.isV5 && maxKeepalive > 0 && (requested === 0 || requested > maxKeepalive);
  return bounded ? { keepaliveSeconds: maxKeepalive, serverKeepAlive: maxKeepalive } : { keepaliveSeconds: requested, serverKeepAlive: undefined };
}

function readWill(client: ClientHandler, packet: IConnectPacket, clientId: string): void {
  const will = packet.will;
  if (will === undefined) return;
  const willQos: number = will.qos ?? 0; // mqtt-packet passes a Will QoS of 3 through, whatever its type says
  if (willQos > 2) throw new ProtocolError(ReasonCode.MalformedPacket, 'will QoS 3'); // [MQTT-3.1.2-14]
  validateTopicName(will.topic, client.ctx.limits);
  const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
  const properties = client.isV5 ? forwardedProperties(will.properties) : undefined;
  const expiry = client.isV5 ? will.properties?.messageExpiryInterval : undefined;
  const message: Message = {
    topic: will.topic,
    payload,
    qos: will.qos ?? 0,
    retain: will.retain === true,
    ...(properties === undefined ? {} : { properties }),
    originClientId: clientId,
  };
  const delaySeconds = client.isV5 ? (will.properties?.willDelayInterval ?? 0) : 0;
  client.will = { message, delaySeconds, ...(expiry === undefined ? {} : { expirySeconds: expiry }) };
}

async function admit(client: ClientHandler): Promise<AdmissionPermit> {
  refuseAboveConnectRate(client);
  const admission = client.ctx.admission();
  if (admission === 'unavailable') throw new ProtocolError(ReasonCode.ServerUnavailable, 'proxy not ready');
  if (admission === 'busy') throw new ProtocolError(ReasonCode.QuotaExceeded, 'connection limit reached');
  const permit = await client.ctx.connectAdmission.acquire(); // bounded session opens (connect-admission.ts)
  if (permit === undefined) throw new ProtocolError(ReasonCode.ServerBusy, 'too many connections opening; retry later');
  return permit;
}

function connack(client: ClientHandler, negotiated: Negotiated, sessionPresent: boolean): IConnackPacket {
  const packet: IConnackPacket = { cmd: 'connack', sessionPresent, returnCode: 0 };
  if (!client.isV5) return packet;
  const { limits } = client.ctx;
  return {
    cmd: 'connack',
    sessionPresent,
    reasonCode: ReasonCode.Success,
    properties: {
      receiveMaximum: limits.receiveMaximum,
      maximumPacketSize: limits.maxPacketSizeBytes,
      topicAliasMaximum: limits.topicAliasMaximum,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
      ...(negotiated.assignedClientId ? { assignedClientIdentifier: negotiated.clientId } : {}),
      ...(negotiated.serverKeepAlive === undefined ? {} : { serverKeepAlive: negotiated.serverKeepAlive }),
    },
  };
}

/**
 * CONNECT: negotiate, take over any connection with the same client id, open (or resume) the session, answer
 * CONNACK, then re-send what the session still owes [MQTT-4.4.0-1]. A second CONNECT is a protocol error
 * [MQTT-3.1.0-2]. Packets that arrive while this runs are queued and handled after CONNACK.
 */
export async function handleConnect(client: ClientHandler, packet: IConnectPacket): Promise<void> {
  if (client.state !== 'awaiting-connect') throw new ProtocolError(ReasonCode.ProtocolError, 'second CONNECT');
  client.state = 'connecting';
  const { ctx } = client;
  try {
    checkProtocol(client, packet);
    const negotiated = negotiate(client, packet);
    readWill(client, packet, negotiated.clientId);
    const permit = await admit(client);
    try {
      await authenticateConnect(client, packet, negotiated.clientId);
      await openSession(client, packet, negotiated);
    } finally {
      permit.release();
    }
  } catch (err: unknown) {
    ctx.metrics.connect(connectResultOf(err));
    throw err;
  }
}

/** The connects_total label of a failed CONNECT. */
function connectResultOf(err: unknown): 'unavailable' | 'busy' | 'rejected' {
  if (!(err instanceof ProtocolError)) return 'rejected';
  if (err.reasonCode === ReasonCode.ServerUnavailable) return 'unavailable';
  return err.reasonCode === ReasonCode.ServerBusy ? 'busy' : 'rejected';
}

/** Applies what CONNECT negotiated to the connection (before any await). */
function applyNegotiated(client: ClientHandler, packet: IConnectPacket, negotiated: Negotiated): void {
  const { ctx, conn } = client;
  client.clientId = negotiated.clientId;
  client.keepaliveMs = negotiated.keepaliveSeconds * 1000;
  client.persistent = negotiated.sessionExpirySeconds > 0;
  client.problemInformation = packet.properties?.requestProblemInformation !== false;
  const aliasMaximum = client.isV5 ? ctx.limits.topicAliasMaximum : 0;
  client.inboundAliases = aliasMaximum > 0 ? new InboundTopicAliases(aliasMaximum) : NO_INBOUND_ALIASES;
  conn.maxOutboundPacketBytes = packet.properties?.maximumPacketSize ?? Number.MAX_SAFE_INTEGER;
}

/** Claims the client id and opens the stored session at a new epoch; undefined when the connection went away. */
async function takeSession(client: ClientHandler, negotiated: Negotiated): Promise<{ record: SessionRecord | undefined } | undefined> {
  const { ctx, conn } = client;
  const { clientId } = negotiated;
  await ctx.registry.claim(clientId, client);
  // a will waiting for this session in the store: open drops it when it resumes the session [MQTT-3.1.3-9], and
  // hands it back as endedWill when a clean start (or expiry) ended the session
  const opened = await ctx.sessions.open(clientId, {
    cleanStart: negotiated.cleanStart,
    proxyId: ctx.proxyId,
    nowMs: ctx.clock.now(),
    protocolVersion: conn.protocolVersion,
    expiryIntervalSeconds: negotiated.sessionExpirySeconds,
  });
  client.epoch = opened.epoch;
  if (opened.previousOwner !== undefined && opened.previousOwner !== ctx.proxyId) {
    // the old connection is on another proxy: tell it (its session writes are fenced by the older epoch anyway)
    const owner = opened.previousOwner;
    ctx.takeover.notify(owner, clientId, opened.epoch).catch((err: unknown) => ctx.log.warn({ err, clientId, owner }, 'takeover not sent'));
  }
  if (opened.endedWill !== undefined) publishEndedWill(client, opened.endedWill);
  await armWill(client, negotiated);
  if (conn.isClosed || !ctx.registry.holds(clientId, client)) {
    // gone or taken over meanwhile: leave the session as it was found, with its expiry running again
    await releaseUnused(client, opened.record);
    return undefined;
  }
  return { record: opened.record };
}

/**
 * Leaves the will in the store before CONNACK, armed: if this proxy dies with the connection open, another proxy
 * publishes it after its delay (the session's expiry bounds the delay, as at a close) [MQTT-3.1.2-8].
 */
async function armWill(client: ClientHandler, negotiated: Negotiated): Promise<void> {
  const { will, epoch } = client;
  if (will === undefined || epoch === undefined) return;
  const delayMs = Math.min(will.delaySeconds, negotiated.sessionExpirySeconds) * 1000;
  await client.ctx.sessions.armWill(negotiated.clientId, epoch, will, delayMs);
  client.willArmed = true;
}

/** Stores back a session this connection opened but never used. */
async function releaseUnused(client: ClientHandler, record: SessionRecord | undefined): Promise<void> {
  const { ctx } = client;
  const epoch = client.epoch;
  if (epoch === undefined) return;
  try {
    if (record === undefined || record.expiryIntervalSeconds === 0) await ctx.sessions.delete(client.clientId, epoch);
    else await ctx.sessions.save(record, epoch, ctx.clock.now());
  } catch (err: unknown) {
    if (!(err instanceof StaleSessionError)) throw err;
  }
}

/** A will the store kept for a session that ended (clean start, or expired meanwhile): it is due now. */
function publishEndedWill(client: ClientHandler, will: Will): void {
  const { ctx } = client;
  ctx.router
    .publish(willMessage(will, ctx.clock.now()), { messageId: ctx.nextMessageId() })
    .catch((err: unknown) => ctx.log.warn({ err, topic: will.message.topic }, 'will not published'));
}

async function openSession(client: ClientHandler, packet: IConnectPacket, negotiated: Negotiated): Promise<void> {
  const { ctx, conn } = client;
  applyNegotiated(client, packet, negotiated);
  const taken = await takeSession(client, negotiated);
  if (taken === undefined) return;
  const deps = {
    router: ctx.router,
    clock: ctx.clock,
    metrics: ctx.metrics,
    inflightMax: ctx.limits.maxInflightOut,
    queueMax: ctx.limits.maxQueuedMessages,
    replayBufferMax: ctx.offline.replayBufferMax,
  };
  const { record } = taken;
  const session = record === undefined ? new Session(negotiated.clientId, negotiated.sessionExpirySeconds, deps) : Session.restore(record, deps);
  session.expiryIntervalSeconds = negotiated.sessionExpirySeconds;
  client.session = session;
  if (record !== undefined) revokeSubscriptions(client, session);
  // what a resumed session missed is replayed from its cursors; live messages meanwhile wait behind the replay
  const replayShards = record === undefined ? [] : beginOfflineReplay(session, ctx.router);
  await session.resubscribe(); // a resumed session's subscriptions are live before CONNACK
  if (client.state === 'closed') {
    // the connection closed while the subscriptions were registered: leave the session as it was found
    session.detach();
    await releaseUnused(client, client.persistent ? session.toRecord(conn.protocolVersion) : undefined);
    return;
  }
  conn.send(connack(client, negotiated, record !== undefined)); // [MQTT-3.2.2-2] session present
  ctx.metrics.connect('accepted');
  const receiveMaximum = packet.properties?.receiveMaximum ?? 65_535;
  const topicAliasMaximum = client.isV5 ? (packet.properties?.topicAliasMaximum ?? 0) : 0;
  session.attachOutbound(new PublishSender(conn, topicAliasMaximum), receiveMaximum);
  client.connected();
  if (replayShards.length > 0) startReplay(client, session, replayShards);
}

function startReplay(client: ClientHandler, session: Session, shards: readonly string[]): void {
  const { ctx } = client;
  const deps = {
    router: ctx.router,
    metrics: ctx.metrics,
    log: ctx.log,
    batchSize: Math.max(1, Math.min(ctx.offline.replayBatchSize, Math.floor(ctx.limits.maxQueuedMessages / 2))),
    retryMs: ctx.offline.replayRetryMs,
  };
  replayOffline(session, shards, deps).catch((err: unknown) => client.fail(err));
}

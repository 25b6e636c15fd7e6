// The calls the protocol handlers make: authenticate a CONNECT (and its will), and check each PUBLISH, SUBSCRIBE
// and retained message against the connection's ACL. The handlers hold one line each; the rules live here.
import type { IConnectPacket, IPublishPacket } from 'mqtt-packet';
import type { Message } from '../backend/message.js';
import { ProtocolError } from '../errors.js';
import type { ClientHandler } from '../protocol/client-handler.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { Session } from '../protocol/session.js';
import { parseSharedSubscription } from '../protocol/topics.js';

/**
 * Runs the listener's chain on a CONNECT; a refusal throws the ProtocolError that answers CONNACK 0x86 / 0x87
 * (v3.1.1: 4 / 5). A will the client could not publish itself is refused with Not Authorized at CONNECT.
 */
export async function authenticateConnect(client: ClientHandler, packet: IConnectPacket, clientId: string): Promise<void> {
  const { ctx } = client;
  if (ctx.security === undefined) return;
  const password = typeof packet.password === 'string' ? Buffer.from(packet.password) : packet.password;
  const decision = await ctx.security.authenticate(
    { clientId, username: packet.username, password, peer: client.conn.peerIdentity },
    ctx.clock.now(),
  );
  if (!decision.ok) {
    ctx.metrics.authFailed(decision.reason);
    const code = decision.refusal === 'bad-credentials' ? ReasonCode.BadUserNameOrPassword : ReasonCode.NotAuthorized;
    throw new ProtocolError(code, decision.refusal === 'bad-credentials' ? 'bad user name or password' : 'not authorized');
  }
  client.access = decision.access;
  const willTopic = client.will?.message.topic;
  if (willTopic !== undefined && !decision.access.mayPublish(willTopic)) {
    ctx.metrics.authFailed('will-denied');
    throw new ProtocolError(ReasonCode.NotAuthorized, 'will topic not authorized');
  }
}

/**
 * Refuses a PUBLISH the ACL denies; true when it was refused (and answered). v5: PUBACK / PUBREC 0x87. v3.1.1 has no
 * way to refuse [MQTT-3.3.5-2]: the message is dropped and acknowledged as usual, so the client is not stuck
 * resending it, and counted.
 */
export function publishRefused(client: ClientHandler, packet: IPublishPacket, topic: string): boolean {
  if (client.access === undefined || client.access.mayPublish(topic)) return false;
  client.ctx.metrics.aclDenied('publish');
  if (packet.qos === 0) return true;
  const reply = client.replies.reserve();
  const cmd = packet.qos === 1 ? 'puback' : 'pubrec';
  const messageId = packet.messageId ?? 0;
  reply(client.isV5 ? { cmd, messageId, reasonCode: ReasonCode.NotAuthorized } : { cmd, messageId });
  return true;
}

/** Whether the ACL allows a subscription (shared ones without `$share/<group>/`); a refusal is counted. */
export function subscribeAllowed(client: ClientHandler, filter: string): boolean {
  if (client.access === undefined || client.access.maySubscribe(filter)) return true;
  client.ctx.metrics.aclDenied('subscribe');
  return false;
}

/** The retained messages this connection may receive (each topic checked, CVE-2018-12546). */
export function receivable(client: ClientHandler, messages: readonly Message[]): readonly Message[] {
  const access = client.access;
  if (access === undefined || !access.restricted) return messages;
  return messages.filter((message) => access.mayReceive(message.topic));
}

/**
 * A resumed session keeps only the subscriptions this connection may hold under the rules in force now: a client
 * whose rights were narrowed does not go on receiving through a subscription granted before (CVE-2021-34434).
 */
export function revokeSubscriptions(client: ClientHandler, session: Session): void {
  const access = client.access;
  if (access === undefined) return;
  for (const filter of [...session.subscriptions.keys()]) {
    if (access.maySubscribe(parseSharedSubscription(filter)?.filter ?? filter)) continue;
    session.unsubscribe(filter);
    client.ctx.metrics.aclDenied('subscribe');
  }
}

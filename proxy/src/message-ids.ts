import { randomBytes } from 'node:crypto';

/**
 * De-duplication ids for stored messages (`Nats-Msg-Id`): a random prefix per process and a counter, so ids are
 * unique across proxies and restarts without coordination.
 */
export function createMessageIds(): () => string {
  const prefix = randomBytes(9).toString('base64url');
  let counter = 0;
  return () => `${prefix}.${(counter++).toString(36)}`;
}

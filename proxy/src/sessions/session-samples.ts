// Sample sessions and wills for the session store contract tests (session-store.contract.ts): every field the
// codec must carry, binary payloads and properties included.
import type { Will } from '../protocol/will.js';
import type { OpenOptions, SessionRecord, SubscriptionRecord } from './session-store.js';

/** The callers' clock at the start of every contract test. */
export const T0 = 1_700_000_000_000;
export const PROXY_A = 'proxy-a';
export const PROXY_B = 'proxy-b';

/** The lifetimes every contract fixture is built with. */
export interface FixtureOptions {
  readonly expiryGraceMs: number;
  readonly tombstoneMs: number;
}

export const FIXTURE_OPTIONS: FixtureOptions = { expiryGraceMs: 600_000, tombstoneMs: 300_000 };

/** Settles `promise` and returns what it rejected with (fails when it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err: unknown) {
    return err;
  }
  throw new Error('expected a rejection');
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

export function openOptions(overrides: Partial<OpenOptions> = {}): OpenOptions {
  return { cleanStart: false, proxyId: PROXY_A, nowMs: T0, protocolVersion: 5, expiryIntervalSeconds: 3_600, ...overrides };
}

export const SUB_A: SubscriptionRecord = { topicFilter: 'a/+/c', qos: 1, noLocal: false, retainAsPublished: true, retainHandling: 2, subscriptionId: 7 };
export const SUB_B: SubscriptionRecord = { topicFilter: '$share/group/x/#', qos: 2, noLocal: true, retainAsPublished: false, retainHandling: 0 };

export function sampleRecord(clientId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    clientId,
    protocolVersion: 5,
    expiryIntervalSeconds: 3_600,
    subscriptions: [SUB_A, SUB_B],
    inflightOut: [
      {
        packetId: 1,
        released: false,
        message: {
          topic: 'a/b/c',
          payload: bytes(0, 255, 1, 2, 0x7b, 0x7d),
          qos: 1,
          retain: false,
          properties: {
            payloadFormatIndicator: false,
            contentType: 'application/octet-stream',
            responseTopic: 'reply/to',
            correlationData: bytes(9, 8, 7),
            userProperties: { many: ['v1', 'v2'], one: 'w' },
          },
          subscriptionIds: [7],
          expiresAtMs: T0 + 5_000,
        },
      },
      { packetId: 65_535, released: true, message: { topic: 'x/y', payload: bytes(), qos: 2, retain: true } },
    ],
    qos2In: [{ packetId: 9, messageId: 'msg-9' }],
    cursors: { 'shard-0': 42, 'shard-1': 0 },
    ...overrides,
  };
}

export function sampleWill(topic = 'will/dev'): Will {
  return {
    message: {
      topic,
      payload: bytes(0x67, 0x6f, 0x6e, 0x65, 0),
      qos: 1,
      retain: true,
      properties: { userProperties: { reason: 'lost' }, correlationData: bytes(1) },
      originClientId: 'dev',
    },
    delaySeconds: 30,
    expirySeconds: 60,
  };
}

/** The record with its subscriptions in one order: the store does not promise any. */
export function normalized(record: SessionRecord | undefined): SessionRecord | undefined {
  if (record === undefined) return undefined;
  return { ...record, subscriptions: [...record.subscriptions].sort((a, b) => a.topicFilter.localeCompare(b.topicFilter)) };
}

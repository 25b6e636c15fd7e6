// The shapes of the session scripts' replies (redis-scripts.ts), checked before use: a reply of another shape
// is a CorruptSessionError carrying zod's message, never a crash later on. The two replies of every CONNECT
// cycle (open, and the fenced save or delete) are checked by hand first: zod's union of tuples allocated and
// walked more than the rest of the store's work on them; zod still checks, and words the error, when the hand
// check does not pass.
import { z } from 'zod';
import { CorruptSessionError } from './session-errors.js';

export const FENCED = z.union([z.tuple([z.literal(0)]), z.tuple([z.literal(0), z.string()]), z.tuple([z.literal(1), z.string()])]);
export const HEARTBEAT = z.tuple([z.union([z.literal(0), z.literal(1)])]).rest(z.string());
const DUE = z.union([z.literal(''), z.number()]);
export const ORPHANED = z.union([z.tuple([z.literal(0)]), z.tuple([z.literal(1), z.string(), DUE, DUE])]);
export const OPENED = z.union([
  z.tuple([z.number(), z.string(), z.string(), z.literal(0)]),
  z.tuple([z.number(), z.string(), z.string(), z.literal(1), z.string(), z.string(), z.string(), z.array(z.string()), z.array(z.string())]),
]);
export const CLAIMED = z.array(z.string());
export const TAKEN_WILL = z.union([z.tuple([z.literal(0)]), z.tuple([z.literal(1), z.string(), z.string(), z.string()]), z.tuple([z.literal(2), z.string()])]);
export const EXPIRED = z.union([z.tuple([z.literal(0)]), z.tuple([z.literal(1), z.string(), z.string()]), z.tuple([z.literal(2), z.string()])]);

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

/** FENCED by hand: [0] | [0, string] | [1, string]. */
export function isFenced(reply: unknown): reply is z.output<typeof FENCED> {
  if (!Array.isArray(reply)) return false;
  if (reply.length === 1) return reply[0] === 0;
  return reply.length === 2 && (reply[0] === 0 || reply[0] === 1) && typeof reply[1] === 'string';
}

/** OPENED by hand. */
export function isOpened(reply: unknown): reply is z.output<typeof OPENED> {
  if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'string' || typeof reply[2] !== 'string') return false;
  if (reply[3] === 0) return reply.length === 4;
  return (
    reply[3] === 1 &&
    reply.length === 9 &&
    typeof reply[4] === 'string' &&
    typeof reply[5] === 'string' &&
    typeof reply[6] === 'string' &&
    isStringArray(reply[7]) &&
    isStringArray(reply[8])
  );
}

/** The reply as `schema` reads it (after `fast`, when given, did not accept it as it is), or a CorruptSessionError. */
export function parseReply<S extends z.ZodType>(schema: S, clientId: string, reply: unknown, fast?: (reply: unknown) => reply is z.output<S>): z.output<S> {
  if (fast?.(reply) === true) return reply;
  const result = schema.safeParse(reply);
  if (!result.success) throw new CorruptSessionError(clientId, 'reply', { cause: result.error });
  return result.data;
}

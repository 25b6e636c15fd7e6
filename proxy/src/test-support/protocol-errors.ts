import { ProtocolError } from '../errors.js';
import type { ReasonCode } from '../protocol/reason-codes.js';

/** Runs `fn`: undefined when it does not throw, the reason code of the ProtocolError it throws; rethrows any other error. */
export function reasonOf(fn: () => unknown): ReasonCode | undefined {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof ProtocolError) return err.reasonCode;
    throw err;
  }
  return undefined;
}

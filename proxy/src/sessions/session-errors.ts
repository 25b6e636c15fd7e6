/**
 * A session write named an epoch that is no longer the session's: a newer connection took the session (anywhere
 * in the fleet), or the session was deleted or expired. Nothing was written.
 */
export class StaleSessionError extends Error {
  constructor(
    readonly clientId: string,
    readonly epoch: number,
    /** The stored epoch; undefined when no session is stored. */
    readonly currentEpoch: number | undefined,
  ) {
    super(`session epoch ${epoch} of '${clientId}' is stale (now ${currentEpoch === undefined ? 'none' : currentEpoch})`);
    this.name = 'StaleSessionError';
  }
}

/**
 * A stored session (or will) could not be read back: not the shape this proxy writes. `open` throws it after the
 * epoch was taken: an open with `cleanStart` discards the unreadable record.
 */
export class CorruptSessionError extends Error {
  constructor(
    readonly clientId: string,
    /** Which part could not be read: `state`, `subscription`, `cursor`, `will`, or `reply` (a script's answer). */
    readonly part: string,
    options?: ErrorOptions,
  ) {
    super(`stored session '${clientId}' has an unreadable ${part}`, options);
    this.name = 'CorruptSessionError';
  }
}

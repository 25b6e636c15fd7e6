/** The time source every timed decision uses; injected so tests control it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The process clock. */
export const systemClock: Clock = { now: () => Date.now() };

import type { ReasonCode } from './protocol/reason-codes.js';

/** A violation of the MQTT protocol by the peer; carries the reason code the spec names for it. */
export class ProtocolError extends Error {
  constructor(
    readonly reasonCode: ReasonCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ProtocolError';
  }
}

/** Invalid configuration, with a readable explanation (zod's prettified issues). */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** A backend (a NATS shard, Redis) could not serve a request in time. Retryable. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

/**
 * The spec asks for something this version cannot build (a field the proxy does not implement yet).
 * Terminal: retrying does not help, so the reconciler reports it in `Degraded` and waits for a spec change.
 */
export class UnsupportedSpecError extends Error {
  constructor(
    /** The spec field, as a path (`proxy.listeners.tls`). */
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnsupportedSpecError';
  }
}

/** A document the operator rendered failed the proxy's own schema: a bug in a builder, not in the spec. */
export class RenderError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RenderError';
  }
}

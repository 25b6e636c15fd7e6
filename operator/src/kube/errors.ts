// Errors from the API server, classified by HTTP status (never by message text).

/** A request the API server answered with an error status (its `Status` reason and message). */
export class KubeApiError extends Error {
  constructor(
    /** HTTP status code. */
    readonly code: number,
    /** `Status.reason` (`NotFound`, `Conflict`, `AlreadyExists`, `Invalid`, …). */
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'KubeApiError';
  }
}

/** 404: the object (or its kind) does not exist. */
export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.code === 404;
/** 409: a resourceVersion conflict, or AlreadyExists on create. */
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.code === 409;

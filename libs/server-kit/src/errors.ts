/**
 * Typed errors for domain code. They carry no transport detail: the gRPC edge maps each kind to a
 * status code in one place (grpc/status.ts). Messages are read by client developers: say what was
 * wrong and what to do.
 */
export type ErrorKind =
  | 'invalid-argument'
  | 'unauthenticated'
  | 'permission-denied'
  | 'not-found'
  | 'already-exists'
  | 'failed-precondition'
  | 'resource-exhausted'
  | 'unavailable'
  | 'deadline-exceeded';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Machine-readable details a client acts on (sent as response trailers). */
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalidArgument = (message: string) => new DomainError('invalid-argument', message);
export const unauthenticated = (message: string) => new DomainError('unauthenticated', message);
export const permissionDenied = (message: string) => new DomainError('permission-denied', message);
export const notFound = (message: string) => new DomainError('not-found', message);
export const alreadyExists = (message: string) => new DomainError('already-exists', message);
export const failedPrecondition = (message: string, details?: Record<string, string>) =>
  new DomainError('failed-precondition', message, details);
/** RESOURCE_EXHAUSTED; with `retryAfterMs`, the `filesync-retry-after-ms` trailer tells clients when to retry. */
export const resourceExhausted = (message: string, retryAfterMs?: number) =>
  new DomainError(
    'resource-exhausted',
    message,
    retryAfterMs === undefined ? undefined : { 'retry-after-ms': String(retryAfterMs) },
  );
export const unavailable = (message: string) => new DomainError('unavailable', message);

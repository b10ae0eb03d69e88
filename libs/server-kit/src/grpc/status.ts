import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { DomainError, type ErrorKind } from '../errors';
import type { Logger } from '../logger';
import { isTransientDependencyError } from '../transient';

/** How long a client waits before retrying a call that failed on a dependency's outage. */
const DEPENDENCY_RETRY_AFTER_MS = 1_000;

const STATUS_OF_KIND: Record<ErrorKind, status> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  'permission-denied': status.PERMISSION_DENIED,
  'not-found': status.NOT_FOUND,
  'already-exists': status.ALREADY_EXISTS,
  'failed-precondition': status.FAILED_PRECONDITION,
  'resource-exhausted': status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  'deadline-exceeded': status.DEADLINE_EXCEEDED,
};

/**
 * The one place errors become gRPC statuses. Domain errors keep their message and details (as
 * trailers named `filesync-<key>`); a dependency's outage that outlasted the SDK's retries
 * (timeout, throttling, 5xx, dropped connection) is UNAVAILABLE, which clients retry; anything
 * else is logged and answered as INTERNAL without its text, so no stack or secret reaches a client.
 */
export function toStatus(error: unknown, logger: Logger): Partial<StatusObject> {
  if (error instanceof DomainError) {
    const trailers = new Metadata();
    for (const [key, value] of Object.entries(error.details)) trailers.set(`filesync-${key}`, value);
    return { code: STATUS_OF_KIND[error.kind], details: error.message, metadata: trailers };
  }
  if (isGrpcError(error)) {
    // A downstream service already chose a status the caller can act on: pass it through.
    return { code: error.code, details: error.details, metadata: new Metadata() };
  }
  if (isTransientDependencyError(error)) {
    logger.warn({ err: error }, 'a dependency is unavailable: answered UNAVAILABLE');
    const trailers = new Metadata();
    trailers.set('filesync-retry-after-ms', String(DEPENDENCY_RETRY_AFTER_MS));
    return {
      code: status.UNAVAILABLE,
      details: 'the service could not reach its storage in time: retry shortly',
      metadata: trailers,
    };
  }
  logger.error({ err: error }, 'unexpected error');
  return { code: status.INTERNAL, details: 'internal error', metadata: new Metadata() };
}

function isGrpcError(error: unknown): error is { code: status; details: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof (error as { code: unknown }).code === 'number' &&
    'details' in error
  );
}

import type { ServiceDefinition } from '@grpc/grpc-js';
import { invalidArgument, type DomainError } from '../errors';

const UNDECODABLE = Symbol('undecodable request');

/** Stands in for a request message whose bytes could not be decoded. */
interface UndecodableRequest {
  readonly [UNDECODABLE]: unknown;
}

/**
 * The definition with decoding failures handed to the handler instead of thrown. grpc-js answers
 * a message it cannot decode with INTERNAL, though the fault is the caller's: an int64 field at
 * or above 2^53 (which ts-proto refuses to turn into a number) or bytes that are no message.
 * The call wrapper (implement.ts) answers them with INVALID_ARGUMENT instead.
 */
export function withUndecodableRequests<D extends ServiceDefinition>(definition: D): D {
  const methods = Object.entries(definition).map(([name, method]) => [
    name,
    {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return { [UNDECODABLE]: error } satisfies UndecodableRequest;
        }
      },
    },
  ]);
  return Object.fromEntries(methods) as D;
}

/** The INVALID_ARGUMENT a request stands for when it could not be decoded, else undefined. */
export function decodingErrorOf(request: unknown): DomainError | undefined {
  if (typeof request !== 'object' || request === null || !(UNDECODABLE in request)) return undefined;
  const cause = (request as UndecodableRequest)[UNDECODABLE];
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (/MAX_SAFE_INTEGER|MIN_SAFE_INTEGER/.test(reason)) {
    return invalidArgument(
      'an integer field of the request is outside ±(2^53 - 1), the largest value the server accepts',
    );
  }
  return invalidArgument(`the request is not a valid protobuf message (${reason})`);
}

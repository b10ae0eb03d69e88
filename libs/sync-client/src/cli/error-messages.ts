import { InvalidCaError, InvalidServerError } from '../config/server-addresses';
import { describeFailure, type FailureContext } from '../failure-text';

export { unreachableMessage } from '../failure-text';

/** What the message of a failed command may name: where it went, what it was. */
export type ErrorContext = FailureContext;

/** One line saying what went wrong and what to do (see describeFailure). */
export async function describeError(error: unknown, context: ErrorContext): Promise<string> {
  if (error instanceof InvalidServerError || error instanceof InvalidCaError) return error.message;
  return describeFailure(error, context);
}

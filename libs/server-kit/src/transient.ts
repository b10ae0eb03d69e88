import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/**
 * Socket failures, as the SDK's classification lists them, found in an error's text. The SDK
 * replaces a thrown value it does not take for an Error (one from another realm, as under a test
 * runner's VM) with `AWS SDK error wrapper for <text>`, which keeps the text but not the code.
 */
const NETWORK_FAILURE_IN_TEXT =
  /^AWS SDK error wrapper for .*\b(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)\b/;

/**
 * Whether an error of a dependency (an AWS SDK call, a socket) is one the caller may retry: a
 * timeout, a dropped or refused connection, throttling, or a 5xx. The SDK has already retried
 * these (see aws.ts), so what reaches us is an outage outlasting its retries. The SDK's own
 * classification decides, so we agree with its retry strategy about what is transient.
 */
export function isTransientDependencyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const sdkError = error as Parameters<typeof isTransientError>[0] & {
    $metadata?: { httpStatusCode?: number };
  };
  // A call we cancelled ourselves (client gone, deadline passed) is not an outage.
  if (sdkError.name === 'AbortError') return false;
  if (isTransientError(sdkError) || isThrottlingError(sdkError) || isServerError(sdkError)) return true;
  const statusCode = sdkError.$metadata?.httpStatusCode;
  if (statusCode !== undefined && statusCode >= 500) return true;
  if (typeof sdkError.message === 'string' && NETWORK_FAILURE_IN_TEXT.test(sdkError.message)) return true;
  return isConflictingTransaction(error);
}

/**
 * A DynamoDB transaction cancelled because another one was writing the same items, or because of
 * throttling: the same transaction succeeds when tried again.
 */
function isConflictingTransaction(error: object): boolean {
  if ((error as { name?: unknown }).name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  const retryable = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);
  const failed = reasons.filter((reason) => reason.Code !== undefined && reason.Code !== 'None');
  return failed.length > 0 && failed.every((reason) => retryable.has(reason.Code!));
}

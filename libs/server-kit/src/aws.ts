import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * Attempts per SDK call, the first included. The SDK retries only what it classifies as
 * transient (timeouts, dropped connections, throttling, 5xx) with jittered exponential backoff;
 * three attempts ride out a blip while keeping a call inside the few seconds its gRPC caller
 * waits. What still fails reaches the client as UNAVAILABLE (grpc/status.ts), and it retries.
 */
export const AWS_MAX_ATTEMPTS = 3;

/** Time to open a TCP (and TLS) connection to an AWS endpoint: seconds only when it is in trouble. */
export const AWS_CONNECTION_TIMEOUT_MS = 3_000;

/** Time for one attempt's request and response, unless a client passes its own (a long poll). */
export const AWS_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Sockets per SDK client. The connection timeout runs from the moment a request asks the pool
 * for a socket: with the SDK's default of 50, a burst of parallel calls (HeadObject per block,
 * batch reads) queued behind busy sockets and failed as "connection timeouts" that were never
 * network trouble, and their retries drained the SDK's retry quota, so later real timeouts got
 * a single attempt. Keep-alive reuses connections instead of paying a handshake per call.
 */
export const AWS_MAX_SOCKETS = 256;

/**
 * SDK client settings shared by every service: the endpoint comes from the SDK's own
 * AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> variables, and every request has a deadline.
 */
export function awsClientConfig(region: string, requestTimeoutMs = AWS_REQUEST_TIMEOUT_MS) {
  const agent = { keepAlive: true, maxSockets: AWS_MAX_SOCKETS };
  return {
    region,
    // Standard mode: backoff with jitter and a retry quota that stops retry storms during an
    // outage. Not adaptive: its client-side rate limiter would delay every call of the process
    // after one throttled table, and our callers have deadlines of seconds.
    retryMode: 'standard',
    maxAttempts: AWS_MAX_ATTEMPTS,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: AWS_CONNECTION_TIMEOUT_MS,
      requestTimeout: requestTimeoutMs,
      // Without it the SDK only logs a warning when the request timeout passes and waits on.
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    }),
  };
}

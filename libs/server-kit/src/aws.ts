import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * SDK client settings shared by every service: the endpoint comes from the SDK's own
 * AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> variables, and every request has a deadline.
 */
export function awsClientConfig(region: string, requestTimeoutMs = 10_000) {
  return {
    region,
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: requestTimeoutMs }),
  };
}

import { readFileSync } from 'node:fs';
import {
  credentials as grpcCredentials,
  makeGenericClientConstructor,
  type ChannelCredentials,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');

type CheckMethod = (
  request: { service: string },
  options: { deadline: Date },
  callback: (error: ServiceError | null, response?: { status: string | number }) => void,
) => void;

/** Plaintext, or TLS trusting only the CA in `caFile` (the local stack's own). */
export function healthCredentials(caFile?: string): ChannelCredentials {
  return caFile ? grpcCredentials.createSsl(readFileSync(caFile)) : grpcCredentials.createInsecure();
}

/** Asks grpc.health.v1 once whether the server at `address` serves `service` ('' = the whole server). */
export function checkServing(
  address: string,
  service = '',
  timeoutMs = 1_000,
  credentials: ChannelCredentials = healthCredentials(),
): Promise<boolean> {
  const client = new HealthClient(address, credentials) as unknown as Client & {
    Check: CheckMethod;
  };
  return new Promise<boolean>((resolve) => {
    client.Check({ service }, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => {
      client.close();
      // proto-loader definitions decode enums as their names.
      resolve(!error && (response?.status === 'SERVING' || response?.status === 1));
    });
  });
}

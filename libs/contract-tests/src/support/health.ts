import {
  credentials,
  makeGenericClientConstructor,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { deadline } from '@filesync/test-support';

const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');

/** A grpc.health.v1 client: Check and Watch as defined by grpc-health-check's health.proto. */
export type HealthStub = Client & {
  Check(
    request: { service: string },
    options: { deadline: Date },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
  Watch(request: { service: string }): ClientReadableStream<{ status: string }>;
};

export function healthStub(address: string): HealthStub {
  return new HealthClient(address, credentials.createInsecure()) as unknown as HealthStub;
}

/** The status name (e.g. 'SERVING') grpc.health.v1 Check answers for `service`. */
export function checkHealth(stub: HealthStub, service = ''): Promise<string> {
  return new Promise((resolve, reject) =>
    stub.Check({ service }, deadline(), (error, response) =>
      error ? reject(error) : resolve(String(response?.status)),
    ),
  );
}

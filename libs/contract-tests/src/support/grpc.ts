import { randomUUID } from 'node:crypto';
import {
  credentials,
  makeGenericClientConstructor,
  status,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { auth, grpcCode, metadata, notifier, syncdiff, unary } from '@filesync/contracts';
import type { ContractStack } from './harness';

// Small client-side helpers in the spirit of libs/e2e/src/support: that folder belongs to another
// Nx project, and module boundaries forbid importing it by a relative path.

export const CALL_TIMEOUT_MS = 10_000;

/** Generated stubs of the four services, as a native client would hold them. */
export interface Stubs {
  readonly auth: auth.AuthServiceClient;
  readonly metadata: metadata.MetadataServiceClient;
  readonly syncDiff: syncdiff.SyncDiffServiceClient;
  readonly notifier: notifier.NotifierServiceClient;
  close(): void;
}

export function connectStubs(stack: Pick<ContractStack, 'services'>): Stubs {
  const insecure = credentials.createInsecure();
  const stubs = {
    auth: new auth.AuthServiceClient(stack.services.auth, insecure),
    metadata: new metadata.MetadataServiceClient(stack.services.metadata, insecure),
    syncDiff: new syncdiff.SyncDiffServiceClient(stack.services['sync-diff'], insecure),
    notifier: new notifier.NotifierServiceClient(stack.services.notifier, insecure),
  };
  return { ...stubs, close: () => Object.values(stubs).forEach((client) => client.close()) };
}

/** Deadline-carrying call settings, with the session's access token when given. */
export const as = (session?: { accessToken: string }) => ({
  timeoutMs: CALL_TIMEOUT_MS,
  accessToken: session?.accessToken,
});

export const deadline = () => ({ deadline: new Date(Date.now() + CALL_TIMEOUT_MS) });

/** The status error a call failed with; fails the test when the call succeeded. */
export async function callError(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (error) {
    if (grpcCode(error) !== undefined) return error as ServiceError;
    throw error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** The status name a call ended with ('OK' when it succeeded), for tables of expectations. */
export async function statusOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    const code = grpcCode(error);
    if (code === undefined) throw error;
    return status[code] ?? String(code);
  }
}

/** One trailer (response metadata) value of a failed call. */
export function trailer(error: ServiceError, key: string): string | undefined {
  const value = (error.metadata as Metadata | undefined)?.get(key)[0];
  return value === undefined ? undefined : String(value);
}

/** Every message of a server stream; rejects with the stream's status error. */
export async function collect<T>(stream: ClientReadableStream<T>): Promise<T[]> {
  const messages: T[] = [];
  for await (const message of stream) messages.push(message as T);
  return messages;
}

/** Writes `requests`, half-closes and collects the answers of a bidirectional stream. */
export function exchange<Req, Res>(
  stream: ClientDuplexStream<Req, Res>,
  requests: readonly Req[],
): Promise<Res[]> {
  const answers = collect(stream as unknown as ClientReadableStream<Res>);
  for (const request of requests) stream.write(request);
  stream.end();
  return answers;
}

export const TEST_PASSWORD = 'correct horse battery staple';

/** A fresh address per call, so test files and reruns never share an account. */
export function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.com`;
}

/** Signs a new account up through the auth stub and returns its first session. */
export async function signUp(stubs: Stubs, label: string, email = uniqueEmail(label)): Promise<auth.Session> {
  const response = await unary(
    stubs.auth.signUp.bind(stubs.auth),
    { email, password: TEST_PASSWORD, deviceName: `${label}-device` },
    as(),
  );
  if (!response.session) throw new Error('SignUp answered without a session');
  return response.session;
}

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

export { unary };

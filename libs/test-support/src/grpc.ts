import { credentials, status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { auth, grpcCode, metadata, notifier, syncdiff, unary } from '@filesync/contracts';

export const CALL_TIMEOUT_MS = 10_000;

/** host:port of each service's gRPC server, as both tiers' stack info files give them. */
export interface ServiceAddresses {
  readonly services: {
    readonly auth: string;
    readonly metadata: string;
    readonly 'sync-diff': string;
    readonly notifier: string;
  };
}

/** Generated stubs of the four services, as a native client would hold them. */
export interface Stubs {
  readonly auth: auth.AuthServiceClient;
  readonly metadata: metadata.MetadataServiceClient;
  readonly syncDiff: syncdiff.SyncDiffServiceClient;
  readonly notifier: notifier.NotifierServiceClient;
  close(): void;
}

export function connectStubs(stack: ServiceAddresses): Stubs {
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

/** Call options for the stream methods of the generated stubs, which `unary` does not cover. */
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

/**
 * The status name a call ended with ('OK' when it succeeded), for tables of expectations. A
 * function is called here, so a table of calls runs one at a time.
 */
export async function statusOf(call: Promise<unknown> | (() => Promise<unknown>)): Promise<string> {
  try {
    await (typeof call === 'function' ? call() : call);
    return 'OK';
  } catch (error) {
    const code = grpcCode(error);
    if (code === undefined) throw error;
    return status[code] ?? String(code);
  }
}

/** Runs every call in turn and pairs its label with its status name. */
export async function statusTable(calls: ReadonlyArray<readonly [string, () => Promise<unknown>]>) {
  const table: Record<string, string> = {};
  for (const [label, call] of calls) table[label] = await statusOf(call);
  return table;
}

/** What statusTable should give when every call ends with `expected`. */
export function expectedTable(calls: ReadonlyArray<readonly [string, unknown]>, expected: string) {
  return Object.fromEntries(calls.map(([label]) => [label, expected]));
}

/** One trailer (response metadata) value of a failed call. */
export function trailer(error: ServiceError, key: string): string | undefined {
  const value = (error.metadata as Metadata | undefined)?.get(key)[0];
  return value === undefined ? undefined : String(value);
}

export { unary };

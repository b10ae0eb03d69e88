// How a failure reads to a person: shared by the CLI's error line and what the client stores for
// `filesync status` (a pass's last error, the server check), so both read the same. No gRPC import:
// the CLI's first chunk (`--help`, usage errors) loads this module.
import { describeTlsFailure, errorDetails, type TransportContext } from './config/tls-errors';

/**
 * The gRPC status codes the client tells apart (numbers fixed by the gRPC specification), here
 * rather than from @grpc/grpc-js, which the CLI's first chunk must not load.
 */
export const GRPC_CODE = {
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** The status code of a gRPC error (a number; Node's own errors carry string codes), else undefined. */
export function grpcCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The server was never reached: UNAVAILABLE (refused, unresolvable, dropped), or a deadline that
 * passed before a connection was made (grpc-js names the peer, `remote_addr=`, once it had one).
 */
export function isUnreachable(error: unknown): boolean {
  const code = grpcCodeOf(error);
  if (code === GRPC_CODE.UNAVAILABLE) return true;
  if (code !== GRPC_CODE.DEADLINE_EXCEEDED) return false;
  return !errorDetails(error).includes('remote_addr=');
}

/** What a failure's line may name: where it went, what ran. */
export interface FailureContext {
  /** The deployment as the user named it (host:port), for "cannot reach". */
  readonly server: string;
  /** The command that failed (`sync`, `login`, ...). */
  readonly command?: string | undefined;
  /** The signed-in account, for the `filesync login` advice. */
  readonly email?: string | undefined;
  /** How the run connected: a dropped plaintext connection may mean a TLS server. */
  readonly transport?: TransportContext | undefined;
}

/**
 * One line saying what went wrong and what to do. gRPC errors are told apart by status: an
 * unreachable server names the address the user gave (not the service port the call went to,
 * nor grpc-js's nested causes), an ended session says how to sign in again, a server failure says
 * to try again; any other refusal is the server's message alone, which says what to do (its
 * status name means nothing to a person).
 */
export function describeFailure(error: unknown, context: FailureContext): string {
  const code = grpcCodeOf(error);
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  const details = errorDetails(error).trim();
  // Before "unreachable": a failed handshake surfaces as UNAVAILABLE too.
  const tls = describeTlsFailure(details, {
    insecure: false,
    ...context.transport,
    server: context.transport?.server ?? context.server,
  });
  if (tls) return tls;
  if (isUnreachable(error)) return unreachableMessage(context.server, details);
  if (code === GRPC_CODE.UNAUTHENTICATED) return unauthenticatedMessage(details, context);
  if (code === GRPC_CODE.INTERNAL || code === GRPC_CODE.UNKNOWN || code === GRPC_CODE.DATA_LOSS)
    return `the server failed (${details}): try again; if it keeps failing, tell the people who run ${context.server}`;
  return details;
}

/**
 * A last error stored by an older client as grpc-js's raw text (`14 UNAVAILABLE: No connection
 * established ... 127.0.0.1:50053`), said as describeFailure says it now; any other text as it is.
 */
export function storedFailureText(text: string, context: FailureContext): string {
  const raw = /^(\d+) [A-Z_]+: ([\s\S]*)$/.exec(text);
  if (!raw) return text;
  return describeFailure({ code: Number(raw[1]), details: raw[2] }, context);
}

/** `filesync` could not reach the server: one line, the address the user gave, what to check. */
export function unreachableMessage(server: string, details: string): string {
  return `cannot reach the filesync server at ${server} (${unreachableCause(details)}): check the address (--server or FILESYNC_SERVER), that the server is running and that this device is online`;
}

/** grpc-js's causes, nested and naming the service port, said in a few words. */
function unreachableCause(details: string): string {
  if (/ECONNREFUSED/.test(details)) return 'connection refused';
  if (/ENOTFOUND|EAI_AGAIN|Name resolution failed|DNS resolution failed/i.test(details))
    return 'the name does not resolve';
  if (/ETIMEDOUT|Deadline exceeded|deadline|did not answer|no answer/i.test(details))
    return 'no answer in time';
  if (/ECONNRESET|EPIPE|closed|ended/i.test(details)) return 'the connection was dropped';
  if (/EHOSTUNREACH|ENETUNREACH/.test(details)) return 'no route to the host';
  return 'unavailable';
}

/**
 * What the server says when a device's tokens are refused because the device is no longer in the
 * account. A device that logged out has no session left to send (logout removes it here), so a
 * device that still has one was removed by another device (`filesync devices remove`).
 */
const DEVICE_GONE = /this device has logged out|this device was removed from the account/i;

function unauthenticatedMessage(details: string, context: FailureContext): string {
  if (context.command === 'login' || context.command === 'signup') {
    return `${details}: check the email address and password and try again`;
  }
  const login = `\`filesync login --email ${context.email ?? 'ADDRESS'}\``;
  if (DEVICE_GONE.test(details)) {
    return `this device was removed from your account (by another device, with \`filesync devices remove\`), so its session ended: to sync here again, sign in with ${login}`;
  }
  return `your session on this device has ended (${details}): sign in again with ${login}`;
}

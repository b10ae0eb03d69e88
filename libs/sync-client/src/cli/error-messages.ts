import type { ServiceError } from '@grpc/grpc-js';
import { InvalidCaError, InvalidServerError } from '../config/server-addresses';
import { GRPC_CODE, grpcCodeOf, isUnreachable } from './exit-codes';
import { describeTlsFailure, type TransportContext } from '../config/tls-errors';

/** What the message of a failed command may name: where it went, what it was. */
export interface ErrorContext {
  /** The deployment as the user named it (host:port), for "cannot reach". */
  readonly server: string;
  /** The command that failed (`sync`, `login`, ...). */
  readonly command?: string | undefined;
  /** The signed-in account, for the `filesync login` advice. */
  readonly email?: string | undefined;
  /** How the run connected, once the client was open: a dropped plaintext connection may mean a TLS server. */
  readonly transport?: TransportContext | undefined;
}

/**
 * One line saying what went wrong and what to do. gRPC errors are told apart by status: an
 * unreachable server names the address the user gave (not the service port the call went to,
 * nor grpc-js's nested causes), an ended session says how to sign in again; any other status
 * keeps its name and the server's message, which says what to do.
 */
export async function describeError(error: unknown, context: ErrorContext): Promise<string> {
  const code = grpcCodeOf(error);
  if (code !== undefined) {
    const details = ((error as ServiceError).details || (error as Error).message || '').trim();
    // Before "unreachable": a failed handshake surfaces as UNAVAILABLE too.
    const tls = describeTlsFailure(details, context.transport ?? { insecure: false });
    if (tls) return tls;
    if (isUnreachable(error)) return unreachableMessage(context.server, details);
    if (code === GRPC_CODE.UNAUTHENTICATED) return unauthenticatedMessage(details, context);
    // Loaded only here: a gRPC error comes from a command that loaded @grpc/grpc-js already.
    const { status: grpcStatus } = await import('./grpc-status');
    const name = grpcStatus[code] ?? `status ${code}`;
    if (name === 'INTERNAL' || name === 'UNKNOWN' || name === 'DATA_LOSS')
      return `the server failed (${name}: ${details}): try again; if it keeps failing, tell the people who run ${context.server}`;
    return `${name}: ${details}`;
  }
  if (error instanceof InvalidServerError || error instanceof InvalidCaError) return error.message;
  return error instanceof Error ? error.message : String(error);
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
  if (/ETIMEDOUT|Deadline exceeded|deadline/i.test(details)) return 'no answer in time';
  if (/ECONNRESET|EPIPE|closed|ended/i.test(details)) return 'the connection was dropped';
  if (/EHOSTUNREACH|ENETUNREACH/.test(details)) return 'no route to the host';
  return 'unavailable';
}

function unauthenticatedMessage(details: string, context: ErrorContext): string {
  if (context.command === 'login' || context.command === 'signup') {
    return `${details}: check the email address and password and try again`;
  }
  const email = context.email ?? 'ADDRESS';
  return `your session on this device has ended (${details}): sign in again with \`filesync login --email ${email}\``;
}

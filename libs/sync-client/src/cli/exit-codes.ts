import { CommanderError } from 'commander';
import { isIncomplete, MassDeleteError, SyncIncompleteError, type SyncSummary } from '../sync/summary';
import { InvalidCaError, InvalidServerError } from '../config/server-addresses';
import { DeviceChoiceError, HomeUnusableError, NotSignedInError } from '../session/errors';
import { RemotePathError } from '../sync/remote-binding';
import { SyncBusyError } from '../sync/sync-busy-error';
import { SyncFolderMissingError, SyncFolderUnreadableError, SyncRootChoiceError } from '../sync/sync-root';
import { InterruptedError } from './interrupt';
import { describeTlsFailure, errorDetails, type TransportContext } from '../config/tls-errors';
import { GRPC_CODE, grpcCodeOf, isUnreachable } from '../failure-text';

export { GRPC_CODE, grpcCodeOf, isUnreachable } from '../failure-text';

/**
 * The CLI's exit codes, in one place so scripts can tell outcomes apart. Codes are never reused
 * for another meaning once released.
 */
export const EXIT = {
  /** Everything asked for was done. */
  success: 0,
  /** An error nothing below names (a refusal by the server, a local I/O error, a bug). */
  error: 1,
  /** The command line was wrong (an unknown option, a missing argument, a malformed --server, an unreadable --ca). */
  usage: 2,
  /** The pass ran but some paths were skipped or failed: listed in the summary; the rest synced. */
  incomplete: 3,
  /** The mass-delete guard stopped the pass before it deleted anything; `--force` goes on. */
  massDelete: 4,
  /**
   * The synced folder is gone (moved, deleted, not mounted, a file in its place); `--moved-from`
   * follows a move, `--create` re-creates it.
   */
  missingFolder: 5,
  /**
   * Signing in is needed: nobody is signed in on this device (or `filesync logout`), the session
   * expired or was revoked (`filesync devices remove`, a reused refresh token), or the email or
   * password given to `login` is wrong.
   */
  authRequired: 6,
  /** The server could not be reached: connection refused, a name that does not resolve, no answer in time. */
  unreachable: 7,
  /** Another pass holds this home's sync lock (its pid is in the message). */
  busy: 8,
  /** Ctrl-C (SIGINT) stopped the command; what was committed stays, the next pass goes on from there. */
  interrupted: 130,
  /** SIGTERM stopped the command, as Ctrl-C does. */
  terminated: 143,
} as const;

/** The exit codes as `filesync --help` lists them (the README has the same table). */
export const EXIT_CODES_HELP = `Exit codes:
  0    done
  1    an error not listed below (the message says what happened and what to do)
  2    usage: a wrong option, argument, --server or --home (one that cannot be used)
  3    incomplete: some paths were skipped or failed (listed); the rest synced
  4    the mass-delete guard stopped the pass (nothing deleted; --force goes on)
  5    the synced folder is missing (or a file is in its place)
  6    sign in needed: not signed in, session expired or revoked, wrong password
  7    the server cannot be reached
  8    another filesync sync is running for this home
  130  interrupted (Ctrl-C); 143 stopped by SIGTERM: the next sync goes on`;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code of a `filesync sync` pass that finished with `summary`. */
export function exitCodeForSummary(summary: SyncSummary): ExitCode {
  return isIncomplete(summary) ? EXIT.incomplete : EXIT.success;
}

/**
 * The exit code of `filesync status` after its server check (undefined: `--offline`): the codes a
 * failed command of the same cause exits with, so a script tells "server down" from "sign in".
 */
export function exitCodeForServerCheck(
  check: { reachable: boolean; sessionValid: boolean; tlsFailure?: boolean } | undefined,
): ExitCode {
  if (check === undefined) return EXIT.success;
  // Configuration to fix here (--ca, --tls, --insecure), as for any other command.
  if (check.tlsFailure) return EXIT.error;
  if (!check.reachable) return EXIT.unreachable;
  if (!check.sessionValid) return EXIT.authRequired;
  return EXIT.success;
}

/**
 * The exit code for an error that ended a command. `context`: how the run connected (a dropped
 * plaintext connection may mean a TLS server; see describeTlsFailure).
 */
export function exitCodeForError(error: unknown, context: Partial<TransportContext> = {}): number {
  if (error instanceof CommanderError) return error.exitCode === 1 ? EXIT.usage : error.exitCode;
  if (
    error instanceof InvalidServerError ||
    error instanceof InvalidCaError ||
    error instanceof DeviceChoiceError ||
    // A home that cannot be used is a choice to change (--home, FILESYNC_HOME), like a wrong option.
    error instanceof HomeUnusableError
  )
    return EXIT.usage;
  // A folder inside another synced one, a binding refused, an unknown folder to unlink.
  if (error instanceof SyncRootChoiceError || error instanceof RemotePathError) return EXIT.usage;
  if (error instanceof MassDeleteError) return EXIT.massDelete;
  if (error instanceof SyncFolderMissingError) return EXIT.missingFolder;
  if (error instanceof SyncIncompleteError) return EXIT.incomplete;
  if (error instanceof NotSignedInError) return EXIT.authRequired;
  if (error instanceof SyncBusyError) return EXIT.busy;
  if (error instanceof InterruptedError)
    return error.signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
  const grpc = grpcCodeOf(error);
  if (grpc === GRPC_CODE.UNAUTHENTICATED) return EXIT.authRequired;
  // The server answered, but not in a way this client may trust or speak: configuration to fix
  // (--ca, --tls, --insecure), not a server to wait for.
  if (grpc !== undefined && describeTlsFailure(errorDetails(error), transport(context))) return EXIT.error;
  if (isUnreachable(error)) return EXIT.unreachable;
  return EXIT.error;
}

function transport(context: Partial<TransportContext>): TransportContext {
  return { insecure: context.insecure === true, plaintextLoopback: context.plaintextLoopback };
}

/** What `--json` prints on stdout when a command ends with an error (one object, never nothing). */
export interface ErrorReport {
  readonly error: {
    /** Stable name of the kind of error (kebab-case): the EXIT key, or a finer one. */
    readonly code: string;
    readonly message: string;
    readonly exitCode: number;
  };
}

/** The `--json` report of an error that ended a command (`context` as for exitCodeForError). */
export function errorReport(
  error: unknown,
  message: string,
  context: Partial<TransportContext> = {},
): ErrorReport {
  const exitCode = exitCodeForError(error, context);
  const named = Object.entries(EXIT).find(([, code]) => code === exitCode)?.[0];
  const code =
    error instanceof SyncFolderUnreadableError
      ? 'unreadable-folder'
      : error instanceof InvalidServerError
        ? 'invalid-server'
        : error instanceof SyncRootChoiceError
          ? 'folder-binding'
          : exitCode === EXIT.terminated
            ? 'interrupted'
            : (named ?? 'error').replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  return { error: { code, message, exitCode } };
}

import { CommanderError } from 'commander';
import { isIncomplete, MassDeleteError, SyncIncompleteError, type SyncSummary } from '../sync/summary';
import { InvalidServerError } from '../config/server-addresses';
import { RemotePathError } from '../sync/remote-binding';
import { FolderBindingError, SyncFolderMissingError, SyncFolderUnreadableError } from '../sync/sync-root';

/**
 * The CLI's exit codes, in one place so scripts can tell outcomes apart. Codes are never reused
 * for another meaning once released.
 */
export const EXIT = {
  /** Everything asked for was done. */
  success: 0,
  /** An unexpected error (server unreachable, not signed in, a bug): nothing more specific applies. */
  error: 1,
  /** The command line was wrong (an unknown option, a missing argument, a malformed --server). */
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
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code of a `filesync sync` pass that finished with `summary`. */
export function exitCodeForSummary(summary: SyncSummary): ExitCode {
  return isIncomplete(summary) ? EXIT.incomplete : EXIT.success;
}

/** The exit code for an error that ended a command. */
export function exitCodeForError(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 1 ? EXIT.usage : error.exitCode;
  if (error instanceof InvalidServerError) return EXIT.usage;
  if (error instanceof FolderBindingError || error instanceof RemotePathError) return EXIT.usage;
  if (error instanceof MassDeleteError) return EXIT.massDelete;
  if (error instanceof SyncFolderMissingError) return EXIT.missingFolder;
  if (error instanceof SyncIncompleteError) return EXIT.incomplete;
  return EXIT.error;
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

/** The `--json` report of an error that ended a command with `exitCode`. */
export function errorReport(error: unknown, message: string): ErrorReport {
  const exitCode = exitCodeForError(error);
  const named = Object.entries(EXIT).find(([, code]) => code === exitCode)?.[0];
  const code =
    error instanceof SyncFolderUnreadableError
      ? 'unreadable-folder'
      : error instanceof InvalidServerError
        ? 'invalid-server'
        : error instanceof FolderBindingError
          ? 'folder-binding'
          : (named ?? 'error').replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  return { error: { code, message, exitCode } };
}

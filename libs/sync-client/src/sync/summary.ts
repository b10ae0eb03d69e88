/** A path the pass left alone on purpose (the scan could not read it, or the path rules refuse its name). */
export interface SkippedPath {
  readonly path: string;
  readonly reason: string;
}

/** A path that could not be synced this pass; the others were. */
export interface SyncFailure {
  readonly path: string;
  readonly reason: string;
}

/** What one sync pass did; `filesync sync --json` prints exactly this. */
export interface SyncSummary {
  uploadedBytes: number;
  downloadedBytes: number;
  uploadedBlocks: number;
  downloadedBlocks: number;
  filesUploaded: number;
  filesDownloaded: number;
  conflicts: number;
  deleted: number;
  /** Paths left out of this pass, with why; they are not treated as deleted. */
  skipped: SkippedPath[];
  /** Paths that failed this pass (a server refusal, a local I/O error); every other path synced. */
  failed: SyncFailure[];
}

export function emptySummary(): SyncSummary {
  return {
    uploadedBytes: 0,
    downloadedBytes: 0,
    uploadedBlocks: 0,
    downloadedBlocks: 0,
    filesUploaded: 0,
    filesDownloaded: 0,
    conflicts: 0,
    deleted: 0,
    skipped: [],
    failed: [],
  };
}

/** True when some path was skipped or failed: the folder is not fully in sync. */
export function isIncomplete(summary: SyncSummary): boolean {
  return summary.skipped.length > 0 || summary.failed.length > 0;
}

export type SyncPhase = 'scanning' | 'comparing' | 'uploading' | 'committing' | 'downloading' | 'done';

/** Progress of the current phase, for progress bars. */
export interface SyncProgress {
  readonly phase: SyncPhase;
  readonly done: number;
  readonly total: number;
  /** What `done` and `total` count. */
  readonly unit: 'files' | 'bytes';
}

/** Thrown at the end of a pass in which some paths failed; everything else was synced. */
export class SyncIncompleteError extends Error {
  override name = 'SyncIncompleteError';
  constructor(
    readonly summary: SyncSummary,
    readonly failures: readonly SyncFailure[],
  ) {
    const first = failures
      .slice(0, 3)
      .map((failure) => `${failure.path}: ${failure.reason}`)
      .join('; ');
    super(`${failures.length} path(s) could not be synced (${first}${failures.length > 3 ? '; ...' : ''})`);
  }
}

/** Paths named in a mass-delete message; the rest are counted. */
const MASS_DELETE_SHOWN = 10;

/**
 * The pass would have deleted many synced files at once (issue 6, kind 2: the mass-delete rule of
 * libs/sync-core), or the server refused such deletions. Nothing was deleted; the files stay on
 * the server and on the other devices until the user confirms with `filesync sync --force`.
 */
export class MassDeleteError extends Error {
  override name = 'MassDeleteError';
  constructor(
    readonly summary: SyncSummary,
    /** Every path the pass would have deleted (here or on the server), sorted. */
    readonly paths: readonly string[],
    /** Synced files of the folder before the pass. */
    readonly live: number,
    /** True when the server refused the deletions; false when this client stopped before asking. */
    readonly refusedByServer: boolean,
  ) {
    const shown = paths.slice(0, MASS_DELETE_SHOWN).join(', ');
    const more = paths.length > MASS_DELETE_SHOWN ? `, and ${paths.length - MASS_DELETE_SHOWN} more` : '';
    super(
      `${refusedByServer ? 'the server refused to delete' : 'this pass would delete'} ${paths.length} of ` +
        `${live} synced file(s) (${shown}${more}); nothing was deleted. If that is what you want, ` +
        'run again with --force; if the folder was moved or a drive is not mounted, fix that first.',
    );
  }
}

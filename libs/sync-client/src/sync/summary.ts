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
  };
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

/** A path that could not be synced this pass; the others were. */
export interface SyncFailure {
  readonly path: string;
  readonly reason: string;
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

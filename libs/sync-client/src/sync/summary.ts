import type { DeletionsByOrigin } from './mass-delete-guard';
import { plural } from '../plural';

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

/** A conflict a pass settled: the server's version is at `path`, this device's kept as `copy`. */
export interface ConflictedPath {
  readonly path: string;
  /** Where the local side was kept; absent when there was no local file to keep (it was deleted here). */
  readonly copy?: string;
}

/**
 * What a pass would do (`filesync sync --dry-run`), from the diff, before anything moves. Paths
 * are namespace-relative; a conflict may also arise at commit time (another device committed
 * meanwhile), which no plan can know.
 */
export interface SyncPlan {
  readonly upload: string[];
  readonly download: string[];
  /** Files deleted on the server that the pass would delete here. */
  readonly deleteLocal: string[];
  /** Files deleted here that the pass would delete on the server. */
  readonly deleteRemote: string[];
  /** Paths changed on both sides: the server's version would win, this device's be kept as a copy. */
  readonly conflicts: string[];
  /** Bytes of the files to upload (what storage lacks may be less). */
  readonly uploadBytes: number;
  /** Bytes of the files to download (what this device holds already may spare some). */
  readonly downloadBytes: number;
}

/** What one sync pass did; `filesync sync --json` prints exactly this. */
export interface SyncSummary {
  uploadedBytes: number;
  downloadedBytes: number;
  uploadedBlocks: number;
  downloadedBlocks: number;
  /**
   * Blocks of downloaded files copied from files already on this device (a rename or a copy made
   * elsewhere) instead of fetched from storage, and their bytes; not in downloadedBlocks/Bytes.
   */
  reusedBlocks: number;
  reusedBytes: number;
  /** Storage reads the downloads made: ranged GETs of packs and GETs of blocks stored on their own. */
  downloadRequests: number;
  filesUploaded: number;
  filesDownloaded: number;
  /**
   * Files moved: renamed here and committed as moves (nothing uploaded), or moved elsewhere and
   * renamed here (nothing downloaded nor read); not in filesUploaded/filesDownloaded.
   */
  moved: number;
  conflicts: number;
  deleted: number;
  /** Paths left out of this pass, with why; they are not treated as deleted. */
  skipped: SkippedPath[];
  /** Paths that failed this pass (a server refusal, a local I/O error); every other path synced. */
  failed: SyncFailure[];
  /** Every conflict this pass settled (`conflicts` counts them). */
  conflicted: ConflictedPath[];
  /** Set by a dry run only: what the pass would do. Nothing was changed. */
  plan?: SyncPlan;
}

export function emptySummary(): SyncSummary {
  return {
    uploadedBytes: 0,
    downloadedBytes: 0,
    uploadedBlocks: 0,
    downloadedBlocks: 0,
    reusedBlocks: 0,
    reusedBytes: 0,
    downloadRequests: 0,
    filesUploaded: 0,
    filesDownloaded: 0,
    moved: 0,
    conflicts: 0,
    deleted: 0,
    skipped: [],
    failed: [],
    conflicted: [],
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

/** Paths named in a mass-delete message, per origin; the rest are counted. */
const MASS_DELETE_SHOWN = 10;

/**
 * The pass would have deleted many synced files at once (issue 6, kind 2: the mass-delete rule of
 * libs/sync-core), or the server refused such deletions. Nothing was deleted; the files stay on
 * the server and on the other devices until the user confirms with `filesync sync --force`.
 *
 * The deletions are told apart by origin because the advice differs: files this folder lost may
 * mean a moved folder or an unmounted drive (fix that, do not confirm), while files deleted on
 * another device are applied here with --force, or kept by restoring them on the server.
 */
export class MassDeleteError extends Error {
  override name = 'MassDeleteError';
  /** Every path the pass would have deleted (here or on the server), sorted. */
  readonly paths: readonly string[];
  constructor(
    readonly summary: SyncSummary,
    /** What the pass would have deleted: `local` on the server, `remote` in this folder. */
    readonly wouldDelete: DeletionsByOrigin,
    /** Synced files of the folder before the pass. */
    readonly live: number,
    /** True when the server refused the deletions; false when this client stopped before asking. */
    readonly refusedByServer: boolean,
  ) {
    const { local, remote } = wouldDelete;
    const total = local.length + remote.length;
    const parts = [
      refusedByServer
        ? `the server refused to delete ${total} of ${plural(live, 'synced file')}: they were left as they ` +
          'are, here and on the server; the rest of the pass was applied.'
        : `this pass would delete ${total} of ${plural(live, 'synced file')}; it stopped before changing ` +
          'anything, here or on the server.',
    ];
    if (local.length > 0) {
      parts.push(
        `${local.length} ${local.length === 1 ? 'is' : 'are'} missing from this folder (${shown(local)}): ` +
          'if the folder was moved or a drive is not mounted, fix that first; if you deleted them, ' +
          'run again with --force to delete them on the server and your other devices too.',
      );
    }
    if (remote.length > 0) {
      parts.push(
        `${remote.length} ${remote.length === 1 ? 'was' : 'were'} deleted on the server, by another device ` +
          `(${shown(remote)}): run again with --force to delete them here too; to keep them, run ` +
          '`filesync unlink` on this folder and then sync it again: its copies are uploaded again ' +
          '(a file that also changed on the server is kept as a conflicted copy).',
      );
    }
    super(parts.join(' '));
    this.paths = [...local, ...remote].sort();
  }
}

function shown(paths: readonly string[]): string {
  const more = paths.length > MASS_DELETE_SHOWN ? `, and ${paths.length - MASS_DELETE_SHOWN} more` : '';
  return paths.slice(0, MASS_DELETE_SHOWN).join(', ') + more;
}

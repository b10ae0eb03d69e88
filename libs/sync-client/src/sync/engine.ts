import { lstat, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import { LIMITS } from '@filesync/resources';
import { canonicalPath, comparePaths, decide, isAtOrBelow, isMassDelete } from '@filesync/sync-core';
import type { Hasher } from '../hashing/hash-file';
import {
  changedManifest,
  manifestEntries,
  manifestEntry,
  scanFolder,
  type LocalFile,
  type ScanFileSystem,
  type ScanResult,
} from '../scan/scanner';
import {
  fileIdOf,
  unchangedSince,
  type BlockRef,
  type DiffCheckpoint,
  type FileState,
  type PendingRemote,
  type StateDb,
} from '../state/state-db';
import { isWhatWasWritten, writeFileAtomically } from '../storage/atomic-write';
import { newTempName } from '../storage/temp-name';
import type { BlockStore } from '../storage/block-store';
import { errorText } from '../storage/fs-error';
import { freeConflictCopyName, nameRoom, pathExists } from './conflict-name';
import { commitUnits, commitWindows, pairLocalMoves, type CommitUnitOf } from './commit-order';
import { Downloader, type BlockSource, type DownloadFile } from './downloader';
import { LocalBlockChangedError, LocalBlocks } from './local-blocks';
import { fileHoldsBlocks } from './same-bytes';
import { FolderSpellings, onDiskPath } from './local-path';
import { deletionsToGuard } from './mass-delete-guard';
import type {
  ActionKind,
  ChangeOutcome,
  DiffAction,
  FileChange,
  ManifestEntry,
  PathRejection,
  ServerEntry,
} from './model';
import type { CommitOutcome, DiffOutcome, DiffProgress, SyncRemote } from './remote';
import { BufferPool, PACK_BUFFERS, packBufferBytes } from './pack-buffers';
import { STREAMED_UPLOAD_MIN_BYTES, UploadingHasher } from './streamed-upload';
import { uploadPacks, type StoredPack, type PackSource } from './uploader';
import { assertReadable, SafePaths, UnsafePathError } from './safe-path';
import {
  emptySummary,
  MassDeleteError,
  SyncIncompleteError,
  type SyncPlan,
  type SyncProgress,
  type SyncSummary,
} from './summary';

/** Blocks moved to or from storage at once. */
const TRANSFER_CONCURRENCY = 8;
/** Rows of downloaded files written to the state database per transaction. */
const STATE_BATCH = 500;
/** Commit rounds: the first pass, then retries after conflicts or missing blocks. */
const COMMIT_ROUNDS = 3;
/**
 * Most changes per CommitFiles call: a call takes every commit unit (a change, or a move's two;
 * see commitUnits) whose blocks are stored by the time it is sent.
 */
const COMMIT_CALL = LIMITS.maxChangesPerCommit;
/**
 * A folder kept by incremental passes still gets a full diff this often: it catches what no
 * observer reported (a state database restored from a backup, a server restored from one).
 */
export const FULL_DIFF_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** Actions that apply a server change here; what they learned is pending until applied. */
const REMOTE_ACTIONS: ReadonlySet<ActionKind> = new Set<ActionKind>([
  'download',
  'delete-local',
  'conflict',
  'record',
  'move-local',
]);

export interface EngineDeps {
  readonly state: StateDb;
  readonly hasher: Hasher;
  readonly blocks: BlockStore;
  readonly remote: SyncRemote;
  readonly logger: Logger;
  /** Names conflict copies: the device name, or a short device id. */
  readonly deviceLabel: string;
  readonly now?: () => Date;
  /** Absolute folders the scan must not enter (the filesync home, if it lies inside). */
  readonly privateFolders?: readonly string[];
  /** The scan's reads of the folder; default node:fs. */
  readonly scanFileSystem?: ScanFileSystem;
  /** Most changes uploaded and committed together (default COMMIT_WINDOW). */
  readonly commitWindow?: number;
  /** Files from this size on upload while the scan hashes them; default STREAMED_UPLOAD_MIN_BYTES. */
  readonly streamedUploadMinBytes?: number;
  /**
   * Most bytes of a folder path: less than LIMITS.maxPathBytes in a folder bound to a remote
   * path (pathRoom in remote-binding.ts; `remote` maps the paths). Longer paths are skipped.
   */
  readonly maxPathBytes?: number;
}

export interface SyncOptions {
  readonly onProgress?: (progress: SyncProgress) => void;
  /**
   * The user confirmed a mass deletion (`filesync sync --force`): the guard lets the pass delete
   * and the commits carry `confirm_mass_delete`. Nothing else sets it.
   */
  readonly force?: boolean;
  /** `--max-delete N`: a pass deleting more than N files stops too (see isMassDelete). */
  readonly maxDelete?: number;
  /** Compare the whole folder with the whole namespace even when an incremental diff would do. */
  readonly full?: boolean;
  /**
   * Stops the pass at the next safe point, rejecting with the signal's reason: after the scan,
   * after the diff, before each commit batch, before each local deletion, between download
   * batches and blocks (what is in flight finishes; a file is never left half-written). The
   * state stays as a crash there would leave it: the next pass resumes.
   */
  readonly signal?: AbortSignal;
  /**
   * Plan only (`filesync sync --dry-run`): scan without writing, ask the server's diff, and
   * answer the plan in `summary.plan`. Nothing is uploaded, committed, written, moved or deleted,
   * and the state database is left as it was (no hash cache, no cursor, no binding), so the next
   * pass does exactly what it would have done without the dry run. The mass-delete guard stops a
   * dry run as it would stop the pass.
   */
  readonly dryRun?: boolean;
}

interface PendingUpload {
  readonly kind: 'upload';
  file: LocalFile;
  baseVersion: number;
}

interface PendingDelete {
  readonly kind: 'delete';
  readonly path: string;
  baseVersion: number;
}

/**
 * A file renamed here: committed as a move (no upload) of the synced file at `from`, version
 * `fromBaseVersion`, to `file.path`. Refused, it is committed as its deletion and upload instead.
 */
interface PendingMove {
  readonly kind: 'move';
  file: LocalFile;
  baseVersion: number;
  readonly from: string;
  readonly fromBaseVersion: number;
}

type PendingChange = PendingUpload | PendingDelete | PendingMove;

/**
 * A file to download: the Downloader's DownloadFile and what writing it needs of the server's
 * entry. A pass may queue a whole namespace, so the entry itself is not kept.
 */
interface PendingDownload extends DownloadFile {
  readonly version: number;
  readonly modifiedAtMs: number;
  readonly contentHash: string;
  /** The local file the scan saw at the path; undefined when the path must be free. */
  readonly expected: LocalFile | undefined;
  /** The version was made by moving the file at this path ('' otherwise): a rename may stand for it. */
  readonly movedFrom: string;
}

function pendingDownload(entry: ServerEntry, expected: LocalFile | undefined): PendingDownload {
  const { path, version, modifiedAtMs, movedFrom, contentHash, size, blockHashes } = entry;
  return { path, version, modifiedAtMs, contentHash, size, blockHashes, expected, movedFrom };
}

/**
 * One two-way pass over a folder bound to a namespace: scan, ask sync-diff what to do, upload and
 * commit local changes, download remote ones, keep conflicting local edits as conflicted copies.
 *
 * Nothing local is replaced or deleted unless it is still exactly what the scan saw (size and
 * mtime); anything else is kept as a conflicted copy or left for the next pass.
 */
export async function syncFolder(
  root: string,
  namespaceId: string,
  deps: EngineDeps,
  options: SyncOptions = {},
): Promise<SyncSummary> {
  return new SyncRun(root, namespaceId, deps, options).run();
}

/**
 * New content of at most this many bytes in a pass is uploaded without first asking which of its
 * blocks storage already has: the question is a round trip to two services, on the path of every
 * small edit a watching device sends; the answer could save at most this much of one pack PUT
 * (a block the namespace already had is indexed where it was, and its copy here is garbage the
 * collector finds).
 */
const UNCHECKED_UPLOAD_MAX_BYTES = 64 * 1024;

class SyncRun {
  private readonly summary = emptySummary();
  private readonly transfers: LimitFunction = pLimit(TRANSFER_CONCURRENCY);
  private readonly downloads: PendingDownload[] = [];
  private readonly safe: SafePaths;
  /** Uploads that arose while settling commits (files of a folder moved aside): the next round's. */
  private readonly extraChanges: PendingChange[] = [];
  /** Local folders moved aside this pass because of a clash with a server file: old path -> new. */
  private readonly movedFolders = new Map<string, { path: string; absPath: string; from: string }>();
  /** Paths whose file now lives elsewhere (moved with its folder): their old changes are void. */
  private readonly superseded = new Set<string>();
  /** Deletions the server refused under the mass-delete rule; they stay proposed. */
  private readonly refusedDeletes: string[] = [];
  private scan!: ScanResult;
  /** Blocks the downloads of this pass can take from local files (see LocalBlocks). */
  private localBlocks = new LocalBlocks([]);
  /** Files deleted here whose blocks a download wants: moved aside until the downloads are done. */
  private readonly stashed: string[] = [];
  /**
   * Journal seqs of this pass's own commits: how many committed changes each holds, and how many
   * of those this device recorded as its base (see cursorAfterOwnCommits).
   */
  private readonly ownSeqs = new Map<number, { committed: number; recorded: number }>();
  /** A commit answer did not account for every change sent: own commits prove nothing then. */
  private ownSeqsUnsure = false;
  /** Server changes this pass learned and set out to apply (see StateDb.putPending). */
  private readonly learned: PendingRemote[] = [];
  /** Pack buffers of every upload of this pass, streamed or not (see BufferPool). */
  private readonly packBuffers = new BufferPool(PACK_BUFFERS, packBufferBytes());
  /**
   * Block bytes stored while the scan hashed big files (see UploadingHasher): part of the upload
   * the progress reports, though they went up before the upload phase began.
   */
  private streamedBytes = 0;
  private storagePrepared = false;

  constructor(
    private readonly root: string,
    private readonly namespaceId: string,
    private readonly deps: EngineDeps,
    private readonly options: SyncOptions,
  ) {
    this.safe = new SafePaths(root);
  }

  async run(): Promise<SyncSummary> {
    const { state, remote } = this.deps;

    let hashed = 0;
    this.progress('scanning', 0, 0, 'files');
    // Big files upload while they are hashed: by the time the diff asks for them, their blocks
    // are stored and registered, and the commit path has nothing left to send for them.
    const dryRun = this.options.dryRun === true;
    const hasher = dryRun
      ? this.deps.hasher
      : new UploadingHasher(
          this.deps.hasher,
          {
            namespaceId: this.namespaceId,
            blocks: this.deps.blocks,
            remote,
            pool: this.packBuffers,
            onPackStored: (pack) => {
              this.countStored(pack);
              this.streamedBytes += pack.bytes;
            },
          },
          this.deps.streamedUploadMinBytes ?? STREAMED_UPLOAD_MIN_BYTES,
          (path, { failure, ...report }) =>
            this.deps.logger.debug(
              { path, ...report, ...(failure === undefined ? {} : { failure: errorText(failure) }) },
              failure === undefined
                ? 'uploaded while hashing'
                : 'upload while hashing failed; what is missing uploads after the diff',
            ),
        );
    // A file the scan has to read is new or changed here, so bytes will most likely move: storage
    // gets ready (credentials from auth, the S3 client) while the scan and the diff go on.
    const scanHasher: Hasher = dryRun
      ? hasher
      : {
          hash: (path, size, reference) => {
            this.prepareStorage();
            return hasher.hash(path, size, reference);
          },
          // Nothing to release: the pass's hashers stay their owners' to close.
          close: async () => undefined,
        };
    // Synced with another namespace (this home signed in to another account or deployment since):
    // its base says nothing of this one, so this is a first sync here (forgetSyncedBase).
    const bound = state.folderRecord(this.root);
    const otherNamespace = bound !== undefined && bound.namespaceId !== this.namespaceId;
    if (otherNamespace && !dryRun) state.forgetSyncedBase(this.root);
    this.scan = await scanFolder(this.root, state, scanHasher, {
      withoutSyncedBase: otherNamespace && dryRun,
      onFileHashed: () => this.progress('scanning', ++hashed, 0, 'files'),
      privateFolders: this.deps.privateFolders,
      fileSystem: this.deps.scanFileSystem,
      readOnly: dryRun,
      maxPathBytes: this.deps.maxPathBytes,
    });
    // Bound only once the folder could be read: a missing folder is never taken for an empty one.
    if (!dryRun) state.bindFolder(this.root, this.namespaceId);
    for (const skipped of this.scan.skipped) this.skip(skipped.path, skipped.reason);

    this.phaseDone('scan', { files: this.scan.files.size });
    this.options.signal?.throwIfAborted();
    this.progress('comparing', 0, 0, 'files');
    const { actions, unrecognized, cursor, full } = await this.diff();
    this.guardMassDelete(actions);
    if (dryRun) {
      this.summary.plan = this.planOf(actions);
      this.progress('done', 1, 1, 'files');
      return this.summary;
    }
    // A kind this client does not know (a newer server's) is never acted on, whatever it means:
    // the path is skipped (the pass is incomplete, the user told) and the cursor stays where it
    // was, so the change is asked for again until a filesync that knows it applies it.
    const unknownKinds = (unrecognized ?? []).filter((action) => !this.scan.excluded(action.path));
    for (const action of unknownKinds) {
      this.deps.logger.warn({ path: action.path, kind: action.kind }, 'unknown diff action ignored');
      this.skip(
        action.path,
        `the server asked for an action this filesync does not know (${action.kind}): nothing was done to it; update filesync`,
      );
    }
    const heldCursor = unknownKinds.length > 0 ? (state.folder(this.root)?.cursor ?? 0) : undefined;
    const changes: PendingChange[] = [];
    const localDeletes: ServerEntry[] = [];
    for (const action of actions) {
      await this.guard(action.path, async () => {
        assertSafeAction(action);
        // A path the scan could not see keeps its server change pending until it can be applied;
        // one the ignore rules hide is not tracked (new rules mean a full diff).
        if (action.server && REMOTE_ACTIONS.has(action.kind) && !this.ignored(action.path)) {
          this.learn(action.server);
        }
        if (this.scan.excluded(action.path)) return;
        switch (action.kind) {
          case 'upload': {
            const file = this.scan.files.get(action.path);
            if (file) changes.push({ kind: 'upload', file, baseVersion: action.baseVersion });
            return;
          }
          case 'delete-remote':
            changes.push({ kind: 'delete', path: action.path, baseVersion: action.baseVersion });
            return;
          case 'download':
          case 'move-local':
            if (action.server) this.queueDownload(action.server);
            return;
          case 'delete-local':
            if (action.server) localDeletes.push(action.server);
            return;
          case 'conflict': {
            const copy = action.server && (await this.keepConflictCopy(action.path, action.server));
            if (copy) changes.push(copy);
            return;
          }
          case 'record':
            if (action.server) this.record(action.server);
            return;
        }
      });
    }

    // Uploads of files the scan did not read (their hash was cached, the last upload failed) and
    // downloads: storage gets ready while the commits before them run.
    if (this.downloads.length > 0 || changes.some((change) => change.kind === 'upload'))
      this.prepareStorage();
    this.phaseDone('diff', { actions: actions.length, full: full ? 1 : 0 });
    this.options.signal?.throwIfAborted();
    // Everything the pass needs of them is queued: a namespace's worth of actions (with the
    // server's entries) need not stay in memory through the transfers.
    actions.length = 0;
    await this.commit(this.withMoves(changes));
    this.phaseDone('commit', { changes: changes.length });
    // Local deletions before downloads: a file and a folder can trade places (file `notes`
    // replaced by folder `notes/` elsewhere, or the other way round), and the download can only
    // land once the old file, or the files below the old folder and the emptied folder, are gone.
    // Only what the scan saw unchanged is removed (deleteLocal); anything else stays and the
    // download that needs its place fails for that path alone.
    this.options.signal?.throwIfAborted();
    await this.renameMoved(localDeletes);
    this.indexLocalBlocks();
    try {
      for (const entry of localDeletes) {
        this.options.signal?.throwIfAborted();
        await this.guard(entry.path, () => this.deleteLocal(entry));
      }
      await this.download();
      this.options.signal?.throwIfAborted();
    } finally {
      // What the downloads did not take is a version on the server (it was deleted unchanged).
      for (const stash of this.stashed.splice(0)) await rm(stash, { force: true }).catch(() => undefined);
    }
    this.phaseDone('download', { files: this.downloads.length });

    // The cursor moves on only with what it taught this pass remembered: a server change that
    // failed or was left alone stays pending, named in the next manifests until applied.
    state.transaction(() => {
      state.putPending(this.root, this.learned);
      state.settlePending(this.root);
      state.markSynced(this.root, heldCursor ?? this.cursorAfterOwnCommits(cursor), Date.now(), {
        full,
        rulesHash: this.scan.rulesFingerprint,
      });
    });
    this.progress('done', 1, 1, 'files');
    if (this.refusedDeletes.length > 0) {
      throw new MassDeleteError(
        this.summary,
        { local: this.refusedDeletes.sort(), remote: [] },
        this.syncedFiles(),
        true,
      );
    }
    if (this.summary.failed.length > 0) throw new SyncIncompleteError(this.summary, this.summary.failed);
    return this.summary;
  }

  /** What the diff's actions would do, for a dry run; the same paths the pass would act on. */
  private planOf(actions: readonly DiffAction[]): SyncPlan {
    const plan = {
      upload: [] as string[],
      download: [] as string[],
      deleteLocal: [] as string[],
      deleteRemote: [] as string[],
      conflicts: [] as string[],
      uploadBytes: 0,
      downloadBytes: 0,
    };
    for (const action of actions) {
      if (this.scan.excluded(action.path)) continue;
      const server = action.server;
      switch (action.kind) {
        case 'upload': {
          const file = this.scan.files.get(action.path);
          if (!file) break;
          plan.upload.push(action.path);
          plan.uploadBytes += file.size;
          break;
        }
        case 'delete-remote':
          plan.deleteRemote.push(action.path);
          break;
        case 'download':
          if (!server || server.deleted) break;
          plan.download.push(action.path);
          plan.downloadBytes += server.size;
          break;
        case 'delete-local':
          plan.deleteLocal.push(action.path);
          break;
        case 'conflict':
          plan.conflicts.push(action.path);
          break;
        default:
          break;
      }
    }
    for (const list of [plan.upload, plan.download, plan.deleteLocal, plan.deleteRemote, plan.conflicts])
      list.sort();
    return plan;
  }

  // ---- diff ----

  /**
   * Asks sync-diff what to do: incrementally (what changed here since the synced base, with the
   * journal since the folder's cursor) when the folder has a cursor kept under the same ignore
   * rules and a full diff ran within FULL_DIFF_INTERVAL_MS; otherwise, or when the server or the
   * number of changes calls for it, a full diff of the whole folder.
   */
  private async diff(): Promise<DiffOutcome & { full: boolean }> {
    const { state, remote } = this.deps;
    const folder = state.folderRecord(this.root);
    const incremental =
      this.options.full !== true &&
      folder !== undefined &&
      folder.namespaceId === this.namespaceId &&
      folder.cursor > 0 &&
      folder.rulesHash === this.scan.rulesFingerprint &&
      Date.now() - folder.lastFullAtMs < FULL_DIFF_INTERVAL_MS;
    if (incremental) {
      const recheck = state.pending(this.root).map((pending) => pending.path);
      const manifest = changedManifest(this.scan, recheck);
      if (manifest.length <= LIMITS.maxIncrementalPaths) {
        const outcome = await remote.diff(this.namespaceId, manifest, { sinceCursor: folder.cursor });
        // A server that does not know incremental diffs took the manifest for the whole folder.
        if (outcome.incremental !== false && !outcome.fullDiffRequired) {
          const named = new Set(manifest.map((entry) => entry.path));
          const actions = outcome.actions.flatMap((action) =>
            named.has(action.path) ? [action] : this.decideUnnamed(action),
          );
          return { actions, unrecognized: outcome.unrecognized, cursor: outcome.cursor, full: false };
        }
        this.deps.logger.debug(
          { cursor: folder.cursor, incremental: outcome.incremental },
          'the server asked for a full diff, or does not know incremental ones',
        );
      }
    }
    return { ...(await this.fullDiff()), full: true };
  }

  /**
   * The full diff, resumed where an earlier one of this folder broke off when a checkpoint of it
   * is kept (see DiffCheckpoint), and checkpointed as it goes: a diff of 100,000 files that
   * fails at the 90,000th resumes there on the next pass instead of listing them all again.
   *
   * A resumed diff still finds every change. The checkpoint holds the server entry of every
   * path the earlier diff answered up to `throughPath`; each is decided again here, with the
   * same rule, against what the scan sees now. A path it did not answer was in sync then: its
   * server entry was its synced base, so only a path that differs from its base now (the paths
   * an incremental manifest names) needs the server, and is named for the server to decide
   * against its current entry. Server changes after the checkpoint's cursor come with the next
   * passes' journal, as after any diff.
   */
  private async fullDiff(): Promise<DiffOutcome> {
    const { state, remote } = this.deps;
    const dryRun = this.options.dryRun === true;
    const folder = state.folderRecord(this.root);
    const scope = {
      namespaceId: this.namespaceId,
      remotePath: folder?.remotePath ?? '',
      rulesHash: this.scan.rulesFingerprint,
    };
    const resume = this.resumableCheckpoint(scope);
    const startedMs = resume?.checkpoint.startedMs ?? Date.now();
    const lowest = (cursor: number) => Math.min(cursor, resume?.checkpoint.cursor ?? cursor);
    let keeping = !dryRun;
    // A resumed diff decided everything up to its resume point before it began: its progress can
    // name an earlier path (the last of the paths it decides again), and a checkpoint moved back
    // there would resume the next diff with every later path both kept and asked for again.
    let floor = resume?.checkpoint.throughPath ?? '';
    const onProgress = (progress: DiffProgress) => {
      if (!keeping) return;
      // An action this client cannot keep an answer for: the next diff starts whole.
      if (progress.unrecognized > 0) {
        keeping = false;
        state.dropDiffCheckpoint(this.root);
        return;
      }
      state.saveDiffProgress(
        this.root,
        {
          ...scope,
          throughPath: comparePaths(progress.throughPath, floor) < 0 ? floor : progress.throughPath,
          cursor: lowest(progress.cursor),
          startedMs,
        },
        progress.actions.map((action) => ({ path: action.path, server: action.server })),
      );
    };
    if (!resume) {
      if (!dryRun) state.dropDiffCheckpoint(this.root);
      return remote.diff(this.namespaceId, manifestEntries(this.scan), { onProgress });
    }
    const { checkpoint, kept, named } = resume;
    const after = checkpoint.throughPath;
    const rest = filterIterable(manifestEntries(this.scan), (entry) => comparePaths(entry.path, after) > 0);
    const outcome = await remote.diff(this.namespaceId, concatIterables(named, rest), {
      resumeAfter: after,
      onProgress,
    });
    if (outcome.resumeAfter !== after) {
      // A server that does not resume took the partial manifest for the whole folder.
      this.deps.logger.debug({ after }, 'the server does not resume diffs: a whole full diff');
      if (!dryRun) state.dropDiffCheckpoint(this.root);
      floor = '';
      return remote.diff(this.namespaceId, manifestEntries(this.scan), { onProgress });
    }
    const decided: DiffAction[] = [];
    for (const [path, server] of kept) {
      const decision = decide(this.localEntry(path), server);
      if (decision) decided.push({ ...decision, path });
    }
    const actions = [...decided, ...outcome.actions].sort((a, b) => comparePaths(a.path, b.path));
    this.deps.logger.debug(
      { after, kept: kept.size, named: named.length, received: outcome.actions.length },
      'full diff resumed',
    );
    return { ...outcome, actions, cursor: lowest(outcome.cursor) };
  }

  /**
   * The checkpoint of an earlier full diff of this folder that this one can resume: made for the
   * same namespace, remote path and ignore rules, younger than FULL_DIFF_INTERVAL_MS, with at
   * most LIMITS.maxIncrementalPaths paths to decide again. Anything else is dropped.
   */
  private resumableCheckpoint(scope: {
    namespaceId: string;
    remotePath: string;
    rulesHash: string;
  }):
    | { checkpoint: DiffCheckpoint; kept: Map<string, ServerEntry | undefined>; named: ManifestEntry[] }
    | undefined {
    const { state } = this.deps;
    const checkpoint = state.diffCheckpoint(this.root);
    if (
      !checkpoint ||
      checkpoint.namespaceId !== scope.namespaceId ||
      checkpoint.remotePath !== scope.remotePath ||
      checkpoint.rulesHash !== scope.rulesHash ||
      Date.now() - checkpoint.startedMs > FULL_DIFF_INTERVAL_MS
    ) {
      return undefined;
    }
    const after = checkpoint.throughPath;
    const kept = state.diffCheckpointEntries<ServerEntry>(this.root);
    const named = changedManifest(this.scan, []).filter(
      (entry) => comparePaths(entry.path, after) <= 0 && !kept.has(entry.path),
    );
    return named.length > LIMITS.maxIncrementalPaths ? undefined : { checkpoint, kept, named };
  }

  /** What the scan knows of a path as the rule reads it; undefined for one this device never had. */
  private localEntry(path: string): ManifestEntry | undefined {
    const known = this.scan.files.has(path) || (this.scan.known.get(path)?.baseVersion ?? 0) > 0;
    return known && !this.scan.unknown.covers(path) ? manifestEntry(this.scan, path) : undefined;
  }

  /**
   * A server change to a path the incremental manifest did not name (unchanged here since the
   * synced base, as far as the scan knows): decided again with the shared rule against this
   * device's base, which may already hold that version (this device's own commit, or a change
   * applied since).
   */
  private decideUnnamed(action: DiffAction): DiffAction[] {
    const server = action.server;
    if (!server) return [];
    // A path with neither a file nor a synced base here is one this device never had.
    const known =
      this.scan.files.has(action.path) || (this.scan.known.get(action.path)?.baseVersion ?? 0) > 0;
    const local = known ? manifestEntry(this.scan, action.path) : undefined;
    const decision = decide(local, server);
    if (!decision) return [];
    // A move's arrival stays one when the rule would download it: the rename may stand for that.
    const moved = action.kind === 'move-local' && decision.kind === 'download';
    return [{ ...decision, path: action.path, kind: moved ? action.kind : decision.kind }];
  }

  /** A server change this pass sets out to apply: pending until the synced base has it. */
  private learn(entry: ServerEntry): void {
    this.learned.push({
      path: entry.path,
      version: entry.version,
      deleted: entry.deleted,
      contentHash: entry.contentHash,
    });
  }

  /** Left alone by the ignore rules (not merely unseen by the scan). */
  private ignored(path: string): boolean {
    return this.scan.excluded(path) && !this.scan.unknown.covers(path);
  }

  /**
   * The diff's cursor, moved past the journal entries that directly follow it and are this pass's
   * own commits, every change of which this device recorded as its base: the next pass need not
   * hear of them again (after a first sync of 20,000 files, they would be 20,000 changes). An
   * entry of anyone else (another device, a restore) stops it, so nothing is skipped unheard.
   */
  private cursorAfterOwnCommits(cursor: number): number {
    if (this.ownSeqsUnsure) return cursor;
    let next = cursor;
    for (;;) {
      const own = this.ownSeqs.get(next + 1);
      if (!own || own.recorded !== own.committed) return next;
      next += 1;
    }
  }

  // ---- mass-delete guard ----

  /**
   * Stops the pass before it changes anything when it would delete too much at once (the rule of
   * libs/sync-core, against the files this folder has synced): the signature of an emptied
   * folder or an unmounted drive (deletions sent to the server) and of a namespace wiped
   * elsewhere (deletions of local files applied from the server) alike. Both directions count
   * together: either way these are files the user would no longer find. A move (the same content
   * deleted at one path and arriving at another) is not a deletion (deletionsToGuard). Nothing is committed,
   * downloaded or deleted and the state is untouched, so the next pass proposes the same
   * deletions until the user confirms with --force.
   */
  private guardMassDelete(actions: readonly DiffAction[]): void {
    if (this.options.force === true) return;
    // An unsafe path is refused (and reported) below, never acted on: it deletes nothing.
    const acted = actions.filter((action) => isSafeAction(action) && !this.scan.excluded(action.path));
    const of = (kind: ActionKind) => acted.filter((action) => action.kind === kind);
    const deleting = deletionsToGuard({
      sentToServer: of('delete-remote').map((action) => ({
        path: action.path,
        contentHash: this.scan.known.get(action.path)?.baseContentHash ?? '',
      })),
      uploads: of('upload').map((action) => ({
        path: action.path,
        contentHash: this.scan.files.get(action.path)?.contentHash ?? '',
      })),
      fromServer: of('delete-local')
        .filter((action) => this.scan.files.has(action.path))
        .map((action) => ({ path: action.path, contentHash: this.scan.files.get(action.path)!.contentHash })),
      downloads: [...of('download'), ...of('move-local')].map((action) => ({
        path: action.path,
        contentHash: action.server?.contentHash ?? '',
      })),
    });
    const live = this.syncedFiles();
    const count = deleting.local.length + deleting.remote.length;
    if (isMassDelete({ deleting: count, live, maxDelete: this.options.maxDelete })) {
      throw new MassDeleteError(this.summary, deleting, live, false);
    }
  }

  /** Files of this folder synced before the pass (the live files the mass-delete rule counts). */
  private syncedFiles(): number {
    let count = 0;
    for (const row of this.scan.known.values()) if (row.baseVersion > 0) count++;
    return count;
  }

  // ---- commit side ----

  /**
   * Uploads what storage lacks and commits, pipelined: changes are committed in batches as soon
   * as their blocks are stored, smallest files first, so the commits of many small files overlap
   * the upload of a large one instead of waiting for it (a move's deletion rides with its upload:
   * see commitUnits).
   */
  private async commit(initial: PendingChange[]): Promise<void> {
    let pending = initial;
    for (let round = 1; round <= COMMIT_ROUNDS && pending.length > 0; round++) {
      const retry: PendingChange[] = [];
      const windows = commitWindows(
        commitUnits(pending, (change) => this.describeChange(change)),
        this.deps.commitWindow,
      );
      for (let index = 0; index < windows.length; index++) {
        const window = windows[index]!;
        // A committed window's units are not needed again (what failed is in `retry`).
        windows[index] = [];
        retry.push(...(await this.commitWindow(window, round)));
      }
      pending = [
        ...retry.filter((change) => !this.superseded.has(changePath(change))),
        ...this.extraChanges.splice(0),
      ];
    }
    for (const change of pending)
      this.fail(changePath(change), 'could not be committed after retries; it syncs next time');
  }

  /**
   * Uploads and commits one window of commit units (see commitWindows); returns the changes to
   * try again in the next round.
   */
  private async commitWindow(
    units: readonly (readonly PendingChange[])[],
    round: number,
  ): Promise<PendingChange[]> {
    const ordered = units.flat();
    const uploads = await this.startUploads(ordered);
    const readiness = (change: PendingChange) => uploads.stored.get(change) ?? STORED;
    const retry: PendingChange[] = [];
    let settled = 0;
    for (let next = 0; next < units.length;) {
      const call = [...units[next++]!];
      await Promise.all(call.map((change) => readiness(change).promise));
      // Stopped: no further commit; the uploads under way finish below, then the pass stops.
      if (this.options.signal?.aborted) break;
      // Units whose uploads are settled by now ride in the same call (the server splits a call
      // into transactions): a call as soon as anything is committable, and few calls when a
      // registered pack makes hundreds of small files committable at once.
      while (
        next < units.length &&
        call.length + units[next]!.length <= COMMIT_CALL &&
        units[next]!.every((change) => readiness(change).value !== undefined)
      )
        call.push(...units[next++]!);
      const ready = call.filter((change) => readiness(change).value === true);
      if (ready.length > 0) retry.push(...(await this.commitBatch(ready, round)));
      settled += call.length;
      // One bar on the terminal: commit progress shows once the uploads are through.
      if (uploads.finished()) this.progress('committing', settled, ordered.length, 'files');
    }
    // Blocks of files that failed may still be on their way: the pass ends with nothing running.
    await uploads.done;
    this.options.signal?.throwIfAborted();
    return retry;
  }

  private describeChange(change: PendingChange): CommitUnitOf {
    // Nothing to upload, and its deletion rides in the same change: paired with nothing else.
    if (change.kind === 'move') return { kind: 'upload', path: change.file.path, size: 0, contentHash: '' };
    if (change.kind === 'upload') {
      const { file } = change;
      return { kind: 'upload', path: file.path, size: file.size, contentHash: file.contentHash };
    }
    const base = this.scan.known.get(change.path)?.baseContentHash ?? '';
    return { kind: 'delete', path: change.path, size: 0, contentHash: base };
  }

  /** Commits one batch; returns the changes to try again in the next round. */
  private async commitBatch(batch: PendingChange[], round: number): Promise<PendingChange[]> {
    const retry: PendingChange[] = [];
    let outcome: CommitOutcome;
    try {
      outcome = await this.deps.remote.commitFiles(this.namespaceId, batch.map(toFileChange), {
        confirmMassDelete: this.options.force === true,
      });
    } catch (error) {
      // The batch as a whole failed (the server unreachable, a malformed request): its paths are
      // reported and the rest of the pass, other batches and every download, still runs.
      for (const change of batch) this.fail(changePath(change), `commit failed: ${errorText(error)}`);
      return retry;
    }
    const reupload: { change: PendingUpload; hashes: readonly string[] }[] = [];
    for (const [index, change] of batch.entries()) {
      const result = outcome.results[index];
      const path = changePath(change);
      if (!result || result.path !== path) {
        this.ownSeqsUnsure = true;
        this.fail(path, 'the server did not answer for this path');
        continue;
      }
      if (change.kind === 'move' && result.kind !== 'committed') {
        // Refused as a move (the source or the target changed on the server): committed as the
        // deletion and the upload it stands for next round, where the usual rules settle each.
        this.deps.logger.debug({ path, from: change.from, outcome: result.kind }, 'move refused: split');
        retry.push(
          { kind: 'delete', path: change.from, baseVersion: change.fromBaseVersion },
          { kind: 'upload', file: change.file, baseVersion: change.baseVersion },
        );
        continue;
      }
      if (result.kind === 'committed') {
        const own = this.ownSeqs.get(result.entry.journalSeq) ?? { committed: 0, recorded: 0 };
        own.committed += 1;
        this.ownSeqs.set(result.entry.journalSeq, own);
      }
      if (result.kind === 'missing-blocks' && round === 1 && change.kind === 'upload') {
        if (!this.superseded.has(path)) reupload.push({ change, hashes: result.blockHashes });
        continue;
      }
      await this.guard(path, async () => {
        const next = await this.settle(change, result);
        if (next) retry.push(next);
      });
    }
    if (reupload.length > 0) {
      // Someone else's upload raced ours, or the collector deleted a block no file used then:
      // upload them again (once, all of the batch's in one set of packs) and commit next round.
      const ready = await this.reuploadBlocks(
        reupload.map(({ change, hashes }) => ({ file: change.file, hashes })),
      );
      retry.push(...reupload.filter(({ change }) => ready.has(change.file)).map(({ change }) => change));
    }
    return retry;
  }

  /** Applies one commit result; returns the change to retry, if any. */
  private async settle(change: PendingChange, outcome: ChangeOutcome): Promise<PendingChange | undefined> {
    // A file moved with its folder after its commit was sent: the move's own upload replaces it.
    if (this.superseded.has(changePath(change))) return undefined;
    switch (outcome.kind) {
      case 'committed': {
        if (change.kind === 'move') {
          this.deps.state.transaction(() => {
            this.deps.state.delete(this.root, change.from);
            this.recordLocal(change.file, outcome.entry);
          });
          this.summary.moved++;
        } else if (change.kind === 'upload') {
          this.recordLocal(change.file, outcome.entry);
          this.summary.filesUploaded++;
        } else {
          this.deps.state.delete(this.root, change.path);
          this.summary.deleted++;
        }
        const own = this.ownSeqs.get(outcome.entry.journalSeq);
        if (own) own.recorded += 1;
        return undefined;
      }
      case 'missing-blocks':
        // The first round's are uploaded again by commitBatch; still missing after that, give up.
        throw new Error('blocks still missing after upload');
      case 'conflict': {
        const current = outcome.current;
        if (change.kind === 'move') throw new Error('a refused move is split before it is settled');
        if (current.version > 0) this.learn(current);
        if (change.kind === 'delete') {
          // Changed on the server since we saw it: the edit wins over our deletion.
          if (current.deleted) this.deps.state.delete(this.root, change.path);
          else this.queueDownload(current);
          return undefined;
        }
        if (current.deleted) {
          // Deleted on the server while we edited: the edit wins, based on the tombstone.
          change.baseVersion = current.version;
          return change;
        }
        if (current.contentHash === change.file.contentHash) {
          // The server already holds these bytes (a retried commit whose answer was lost, or the
          // same edit made elsewhere): nothing to keep apart.
          this.recordLocal(change.file, current);
          return undefined;
        }
        if (change.baseVersion === 0 && this.isConflictCopy(change.file.path)) {
          throw new Error('conflicted copy name is taken on the server');
        }
        return this.keepConflictCopy(change.file.path, current);
      }
      case 'rejected':
        return this.settleRejection(change, outcome);
    }
  }

  /**
   * A change the server refused for its path alone; the batch's other changes are settled as
   * usual. Returns the change to commit instead, if any; throws to report the path as failed.
   */
  private async settleRejection(
    change: PendingChange,
    rejection: PathRejection,
  ): Promise<PendingChange | undefined> {
    const path = changePath(change);
    if (rejection.reason === 'mass-delete' && change.kind === 'delete') {
      // The file stays on the server, and its state row (the synced base) stays here: the next
      // pass sees the file gone locally again and proposes the same deletion, never re-downloads
      // it nor forgets it, until the user confirms with --force or restores the file.
      this.refusedDeletes.push(path);
      return undefined;
    }
    if (rejection.reason === 'path-clash' && change.kind === 'upload') {
      const clashing = rejection.clashingPath;
      if (clashing !== path && isAtOrBelow(path, clashing)) return this.moveFolderAside(clashing, change);
      if (clashing !== path && isAtOrBelow(clashing, path)) return this.moveFileAsideForClash(change.file);
    }
    const why = rejection.message || (rejection.reason === 'other' ? 'no reason given' : rejection.reason);
    throw new Error(`refused by the server: ${why}`);
  }

  // ---- a file and a folder at one path ----

  /**
   * The server holds live files below `file.path` (a folder there), this device a file: the file
   * is kept as a conflicted copy beside it and uploaded under that name, the path is freed and
   * the server's files below it download in this pass. Both contents stay reachable.
   */
  private async moveFileAsideForClash(file: LocalFile): Promise<PendingUpload> {
    const copy = await this.moveAsideAsNewFile(file);
    this.conflicted(file.path, copy.file.path);
    this.deps.state.delete(this.root, file.path);
    this.deps.logger.warn(
      { path: file.path, copy: copy.file.path },
      'a folder on the server has this name: file kept as a conflicted copy',
    );
    return copy;
  }

  /**
   * The server holds a live file at `folder`, this device a folder with files below it: the whole
   * local folder is renamed to a conflicted-copy name (one rename keeps everything in it, ignored
   * files included) and every file the scan saw in it is uploaded below the new name; the server's
   * file then downloads at `folder` in this pass. Those uploads go to the next commit round (the
   * other changes below `folder` in flight now are void); nothing is returned for `change` itself.
   */
  private async moveFolderAside(folder: string, change: PendingUpload): Promise<PendingChange | undefined> {
    let moved = this.movedFolders.get(folder);
    if (!moved) {
      // The folder's on-disk spelling is the file's absolute path cut to the folder's depth.
      let absPath = change.file.absPath;
      for (let depth = change.file.path.split('/').length; depth > folder.split('/').length; depth--)
        absPath = dirname(absPath);
      const path = await this.moveAside(absPath, folder, { keepExtension: false });
      moved = { path, absPath: join(dirname(absPath), basename(path)), from: absPath };
      this.movedFolders.set(folder, moved);
      this.conflicted(folder, path);
      this.deps.logger.warn(
        { path: folder, copy: path },
        'a file on the server has this name: folder kept as a conflicted copy',
      );
      for (const file of this.scan.files.values()) {
        if (!isAtOrBelow(file.path, folder)) continue;
        this.superseded.add(file.path);
        this.deps.state.delete(this.root, file.path);
        // The file's on-disk spelling below the folder is kept (a subfolder may be NFD).
        const absPath = join(moved.absPath, relative(moved.from, file.absPath));
        this.extraChanges.push({
          kind: 'upload',
          baseVersion: 0,
          file: { ...file, path: `${moved.path}${file.path.slice(folder.length)}`, absPath },
        });
      }
    }
    return undefined;
  }

  /**
   * Asks which blocks of the pending uploads storage lacks and starts uploading them (each once,
   * in the given order). Resolves when the uploads are queued; `stored` tells per change whether
   * all its blocks are in storage (false once a failure was recorded for it).
   */
  private async startUploads(changes: readonly PendingChange[]): Promise<{
    stored: Map<PendingChange, Readiness>;
    finished(): boolean;
    /** Resolves once every upload settled (none left running after the pass). */
    done: Promise<unknown>;
  }> {
    const stored = new Map<PendingChange, Readiness>();
    const uploads = changes.filter((change): change is PendingUpload => change.kind === 'upload');
    // Each distinct block once, in first-seen order, with its length.
    const lengths = new Map<string, number>();
    for (const upload of uploads)
      for (const block of upload.file.blocks) lengths.set(block.hash, block.length);
    const unique = [...lengths.keys()];
    // What big files sent while they were hashed counts as done of this phase: without it a
    // 128 MiB file streamed during the scan showed as the few MiB left after the diff.
    const streamed = this.streamedBytes;
    if (unique.length === 0) {
      if (streamed > 0) this.progress('uploading', streamed, streamed, 'bytes');
      return { stored, finished: () => true, done: Promise.resolve() };
    }
    let missing: Set<string>;
    try {
      missing =
        streamed === 0 &&
        [...lengths.values()].reduce((bytes, length) => bytes + length, 0) <= UNCHECKED_UPLOAD_MAX_BYTES
          ? new Set(unique)
          : new Set(await this.deps.remote.findMissingBlocks(this.namespaceId, unique));
    } catch (error) {
      // Without knowing what storage lacks these uploads wait for the next pass; deletions and
      // downloads go on.
      for (const upload of uploads) {
        this.fail(upload.file.path, `could not check stored blocks: ${errorText(error)}`);
        stored.set(upload, NOT_STORED);
      }
      return { stored, finished: () => true, done: Promise.resolve() };
    }

    // Each missing block is uploaded once, from the first file (in commit order) that has it.
    const sources = uploads.map((upload) => ({
      absPath: upload.file.absPath,
      blocks: upload.file.blocks.filter((ref) => missing.has(ref.hash)),
    }));
    let total = streamed;
    for (const hash of missing) total += lengths.get(hash) ?? 0;
    let done = streamed;
    this.progress('uploading', done, total, 'bytes');
    const registered = this.uploadPacks(sources, (bytes) => {
      done += bytes;
      this.progress('uploading', done, total, 'bytes');
    });
    for (const upload of uploads) {
      const needed = [...new Set(upload.file.blocks.map((block) => block.hash))].filter((hash) =>
        missing.has(hash),
      );
      stored.set(
        upload,
        settledFlag(
          Promise.all(needed.map((hash) => registered.get(hash))).then(
            () => true,
            (error: unknown) => {
              this.fail(upload.file.path, errorText(error));
              return false;
            },
          ),
        ),
      );
    }
    let finished = false;
    const settled = Promise.allSettled(registered.values()).then(() => (finished = true));
    return { stored, finished: () => finished, done: settled };
  }

  /**
   * Uploads blocks the server reported missing at commit (the collector deleted a condemned
   * block, or storage lost it), from the files that name them, in one set of packs.
   * Resolves with the files whose blocks are all registered again; records a failure for the rest.
   */
  private async reuploadBlocks(
    requests: readonly { file: LocalFile; hashes: readonly string[] }[],
  ): Promise<Set<LocalFile>> {
    const sources = requests.map(({ file, hashes }) => {
      const wanted = new Set(hashes);
      return { absPath: file.absPath, blocks: file.blocks.filter((block) => wanted.has(block.hash)) };
    });
    const registered = this.uploadPacks(sources);
    const ready = new Set<LocalFile>();
    await Promise.all(
      requests.map(async ({ file, hashes }, index) => {
        try {
          if (new Set(sources[index]!.blocks.map((b) => b.hash)).size < new Set(hashes).size)
            throw new Error('server asked for blocks this file does not have');
          await Promise.all(hashes.map((hash) => registered.get(hash)));
          ready.add(file);
        } catch (error) {
          this.fail(file.path, errorText(error));
        }
      }),
    );
    return ready;
  }

  /** Uploads blocks in packs (see uploadPacks); `onBytes` hears each stored block byte once. */
  private uploadPacks(
    sources: readonly PackSource[],
    onBytes?: (bytes: number) => void,
  ): Map<string, Promise<void>> {
    return uploadPacks(sources, {
      namespaceId: this.namespaceId,
      blocks: this.deps.blocks,
      remote: this.deps.remote,
      pool: this.packBuffers,
      signal: this.options.signal,
      onPackStored: (pack) => {
        this.countStored(pack);
        onBytes?.(pack.bytes);
      },
    });
  }

  /** See BlockStore.prepare; once per pass. */
  private prepareStorage(): void {
    if (this.storagePrepared) return;
    this.storagePrepared = true;
    this.deps.blocks.prepare?.();
  }

  private countStored(pack: StoredPack): void {
    if (pack.outcome === 'uploaded') {
      this.summary.uploadedBlocks += pack.blocks;
      this.summary.uploadedBytes += pack.bytes;
    }
  }

  // ---- conflicts ----

  /**
   * Moves the local file at `path` aside as a conflicted copy (to be uploaded as a new file)
   * and queues the server's version for the original path.
   */
  private async keepConflictCopy(path: string, serverEntry: ServerEntry): Promise<PendingUpload | undefined> {
    const file = this.scan.files.get(path);
    if (!file) {
      this.conflicted(path, undefined);
      if (!serverEntry.deleted) this.queueDownload(serverEntry);
      return undefined;
    }
    if (await this.holdsServerVersion(file, serverEntry)) return undefined;
    const copy = await this.moveAsideAsNewFile(file);
    this.conflicted(path, copy.file.path);
    if (serverEntry.deleted) this.deps.state.delete(this.root, path);
    else this.downloads.push(pendingDownload(serverEntry, undefined));
    return copy;
  }

  /**
   * Whether the local file, whose content hash differs from the server version's, holds the same
   * bytes all the same; if so it becomes the base with the server's blocks, and no copy is made.
   * Identical bytes get other blocks when they were cut against another reference (hashFile: a
   * device that edited the file cut it against its old blocks, a device that never had it cuts
   * it plain). Two single blocks are compared by their hashes already. Any doubt (blocks the
   * server cannot size, a read error, a file changed since the scan) answers false: the conflict
   * keeps both.
   */
  private async holdsServerVersion(file: LocalFile, entry: ServerEntry): Promise<boolean> {
    if (
      entry.deleted ||
      entry.size !== file.size ||
      (entry.blockHashes.length <= 1 && file.blocks.length <= 1)
    )
      return false;
    try {
      const { locations } = await this.deps.remote.locateBlocks(this.namespaceId, entry.blockHashes);
      const lengths = new Map(locations.map((location) => [location.hash, location.length]));
      const blocks = entry.blockHashes.map((hash) => ({ hash, length: lengths.get(hash) ?? 0 }));
      if (blocks.some((block) => block.length <= 0)) return false;
      if (!(await fileHoldsBlocks(file.absPath, blocks))) return false;
      const now = await lstat(file.absPath);
      if (!unchangedSince(now, file)) return false;
      let offset = 0;
      const refs = blocks.map(({ hash, length }) => ({ hash, length, offset: (offset += length) - length }));
      this.recordLocal({ ...file, contentHash: entry.contentHash, blocks: refs }, entry);
      this.deps.logger.debug(
        { path: file.path },
        'same bytes as the server version, cut otherwise: recorded',
      );
      return true;
    } catch (error) {
      this.deps.logger.debug(
        { path: file.path, error: errorText(error) },
        'could not compare with the server version',
      );
      return false;
    }
  }

  /** Moves a local file to a conflicted-copy name and returns its upload as a new file. */
  private async moveAsideAsNewFile(file: LocalFile): Promise<PendingUpload> {
    const copyPath = await this.moveAside(file.absPath, file.path);
    const copyAbs = join(dirname(file.absPath), basename(copyPath));
    const now = await stat(copyAbs);
    // The file may have changed after the scan: then its blocks are not the scanned ones. Not
    // by ctime: the move aside itself changed that.
    const current =
      now.size === file.size && now.mtimeMs === file.mtimeMs
        ? file
        : { ...(await this.deps.hasher.hash(copyAbs, now.size, file.blocks)) };
    return {
      kind: 'upload',
      baseVersion: 0,
      file: {
        ...file,
        ...current,
        path: copyPath,
        absPath: copyAbs,
        mtimeMs: now.mtimeMs,
        ctimeMs: now.ctimeMs,
      },
    };
  }

  /**
   * Renames a local file (or, with keepExtension false, a folder) to a free conflicted-copy name
   * beside it; returns the copy's path.
   */
  private async moveAside(
    absPath: string,
    path: string,
    options: { keepExtension?: boolean } = {},
  ): Promise<string> {
    const folder = dirname(absPath);
    const slash = path.lastIndexOf('/');
    const parent = slash >= 0 ? path.slice(0, slash) : '';
    const name = await freeConflictCopyName(
      (candidate) => pathExists(join(folder, candidate)),
      basename(absPath),
      this.deps.deviceLabel,
      this.deps.now?.() ?? new Date(),
      { ...options, maxBytes: nameRoom(parent, folder) },
    );
    await this.safe.checkTarget(absPath);
    await rename(absPath, join(folder, name));
    return canonicalPath(parent ? `${parent}/${name}` : name);
  }

  /** A conflict at `path`, the local side kept as `copy` (none when there was nothing to keep). */
  private conflicted(path: string, copy: string | undefined): void {
    this.summary.conflicts++;
    this.summary.conflicted.push(copy === undefined ? { path } : { path, copy });
  }

  private isConflictCopy(path: string): boolean {
    return path.includes(' (conflicted copy ');
  }

  // ---- download side ----

  private queueDownload(entry: ServerEntry): void {
    if (entry.deleted) return;
    this.downloads.push(pendingDownload(entry, this.scan.files.get(entry.path)));
  }

  private async download(): Promise<void> {
    const total = this.downloads.reduce((sum, download) => sum + download.size, 0);
    let done = 0;
    this.progress('downloading', 0, total, 'bytes');
    const onBytes = (bytes: number) => {
      done += bytes;
      this.progress('downloading', done, total, 'bytes');
    };
    // Queued after a commit conflict too: what the scan could not see stays untouched.
    const files: PendingDownload[] = [];
    for (const download of this.downloads) {
      if (this.scan.excluded(download.path)) continue;
      const local = this.localBlocks.sourceFor(download);
      if (!local || !(await this.writeFromLocal(download, local, onBytes))) files.push(download);
    }
    const downloader = new Downloader(this.namespaceId, this.deps.blocks, this.deps.remote, {
      transfers: this.transfers,
      // A big file edited elsewhere: its unchanged blocks come from the copy here.
      local: this.localBlocks,
      signal: this.options.signal,
      onRequest: () => this.summary.downloadRequests++,
      logger: this.deps.logger,
    });
    try {
      await downloader.run(files, {
        write: (file, source) =>
          this.guard(file.path, async () => {
            if (!file.expected) await this.clearFolderAt(file.path);
            await this.downloadOne(file, source, onBytes);
          }),
        fail: (file, error) => this.fail(file.path, errorText(error)),
      });
    } finally {
      this.flushStatePuts();
    }
  }

  /**
   * Indexes the blocks of local files that downloads of this pass want, before anything is
   * deleted or replaced (see LocalBlocks).
   */
  private indexLocalBlocks(): void {
    if (this.downloads.length === 0) return;
    this.localBlocks = new LocalBlocks(this.downloads);
    for (const file of this.scan.files.values()) {
      if (!this.scan.excluded(file.path) && this.localBlocks.holdsWanted(file)) this.localBlocks.add(file);
    }
  }

  /**
   * Writes a download from blocks already on this device; false when one of them changed since
   * the scan, so the file is to be fetched from storage after all. Other failures fail the path.
   */
  private async writeFromLocal(
    download: PendingDownload,
    source: BlockSource,
    onBytes: (bytes: number) => void,
  ): Promise<boolean> {
    let fromStorage = false;
    await this.guard(download.path, async () => {
      try {
        if (!download.expected) await this.clearFolderAt(download.path);
        await this.downloadOne(download, source, onBytes, true);
      } catch (error) {
        if (!(error instanceof LocalBlockChangedError)) throw error;
        fromStorage = true;
      }
    });
    return !fromStorage;
  }

  /** Folder listings of the download phase (see FolderSpellings). */
  private readonly spellings = new FolderSpellings();

  /** Rows of downloaded files, written in one transaction per many files rather than one each. */
  private readonly statePuts: FileState[] = [];

  private putState(row: FileState): void {
    this.statePuts.push(row);
    if (this.statePuts.length >= STATE_BATCH) this.flushStatePuts();
  }

  private flushStatePuts(): void {
    const rows = this.statePuts.splice(0);
    if (rows.length === 0) return;
    this.deps.state.transaction(() => {
      for (const row of rows) this.deps.state.put(this.root, row);
    });
  }

  /**
   * A folder where a server file is to land (the other device turned the folder into a file):
   * its synced files were deleted before the downloads, and clashing new files moved aside at
   * commit, so what is left is what the scan did not sync (ignored or skipped files). An empty
   * folder goes; anything else moves aside whole as a conflicted copy, bytes kept, and its files
   * sync under the new name in the next pass.
   */
  private async clearFolderAt(path: string): Promise<void> {
    const target = await onDiskPath(this.root, path);
    await this.safe.checkTarget(target);
    const found = await lstat(target).catch(() => undefined);
    if (!found?.isDirectory()) return;
    try {
      await rmdir(target);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
    const copy = await this.moveAside(target, path, { keepExtension: false });
    this.conflicted(path, copy);
    this.deps.logger.warn(
      { path, copy },
      'a file from the server has this name: folder kept as a conflicted copy',
    );
  }

  private async downloadOne(
    download: PendingDownload,
    source: BlockSource,
    onBytes: (bytes: number) => void,
    fromLocalFiles = false,
  ): Promise<void> {
    const { expected } = download;
    const target = expected?.absPath ?? (await onDiskPath(this.root, download.path, this.spellings));
    const blocks: BlockRef[] = [];
    let size = 0;
    const wrote = await writeFileAtomically(
      target,
      async (handle) => {
        for (let i = 0; i < download.blockHashes.length; i++) {
          const bytes = await source.block(i);
          await handle.write(bytes, 0, bytes.byteLength, size);
          blocks.push({ hash: download.blockHashes[i]!, offset: size, length: bytes.byteLength });
          size += bytes.byteLength;
          if (fromLocalFiles || source.fromLocal?.(i) === true) {
            this.summary.reusedBlocks++;
            this.summary.reusedBytes += bytes.byteLength;
          } else {
            this.summary.downloadedBlocks++;
            this.summary.downloadedBytes += bytes.byteLength;
          }
          onBytes(bytes.byteLength);
        }
        if (size !== download.size)
          throw new Error(`downloaded ${size} bytes, the server said ${download.size}`);
      },
      {
        // Any time is a time: zero (1970) and negative (before 1970) round-trip like the rest.
        mtimeMs: download.modifiedAtMs,
        prepareFolder: (folder) => this.safe.checkFolder(folder, { create: true }),
        beforeReplace: async () => {
          await this.safe.checkTarget(target);
          await this.makeRoomFor(target, download.path, expected);
        },
      },
    );
    // The stats of what is there now, if it is still what was written. A file edited (or put in
    // its place) between the rename and this lstat keeps the stats of what was written instead:
    // its own differ (the rename moved the ctime at least), so the next scan reads it and the edit
    // is a local change, not taken for the downloaded bytes.
    const now = await lstat(target).catch(() => undefined);
    const written = isWhatWasWritten(now, wrote) ? now : wrote;
    this.putState({
      path: download.path,
      baseVersion: download.version,
      baseContentHash: download.contentHash,
      size: written.size,
      mtimeMs: written.mtimeMs,
      contentHash: download.contentHash,
      blocks,
      fileId: fileIdOf(written),
      ctimeMs: written.ctimeMs,
    });
    this.summary.filesDownloaded++;
  }

  /**
   * Right before a download replaces `target`: if the file there is not what the scan saw (or
   * appeared since), it is moved aside as a conflicted copy instead of being overwritten; if it
   * is what the scan saw but cannot be read, it is skipped (its cached hash proves nothing).
   */
  private async makeRoomFor(target: string, path: string, expected: LocalFile | undefined): Promise<void> {
    const now = await lstat(target).catch(() => undefined);
    if (!now) return;
    if (expected && now.isFile() && unchangedSince(now, expected)) {
      await assertReadable(target);
      return;
    }
    if (!now.isFile()) throw new Error('a folder or special file is in the way');
    const copy = await this.moveAside(target, path);
    this.conflicted(path, copy);
    this.deps.logger.warn({ path, copy }, 'local file changed during sync: kept as a conflicted copy');
  }

  private async deleteLocal(entry: ServerEntry): Promise<void> {
    const file = this.scan.files.get(entry.path);
    if (!file) {
      this.deps.state.delete(this.root, entry.path);
      return;
    }
    await this.safe.checkTarget(file.absPath);
    const now = await lstat(file.absPath).catch(() => undefined);
    if (now && (!now.isFile() || !unchangedSince(now, file))) {
      // Edited since the scan: the edit wins over the remote deletion; the next pass uploads it.
      this.deps.logger.warn({ path: entry.path }, 'changed during sync: not deleted');
      return;
    }
    await assertReadable(file.absPath);
    if (!(this.localBlocks.holdsWanted(file) && (await this.stash(file))))
      await rm(file.absPath, { force: true });
    this.deps.state.delete(this.root, entry.path);
    this.summary.deleted++;
    await this.removeEmptyFolders(dirname(file.absPath));
  }

  /**
   * A move made elsewhere: the download at the new path takes these bytes instead of storage.
   * Moved aside to the folder's root, which no download moves away (a folder below may be: a
   * file from the server can take its name); false when that is not possible (another file system).
   */
  private async stash(file: LocalFile): Promise<boolean> {
    const stash = join(this.root, newTempName());
    try {
      await rename(file.absPath, stash);
    } catch {
      return false;
    }
    this.stashed.push(stash);
    this.localBlocks.add({ absPath: stash, blocks: file.blocks });
    return true;
  }

  /** Folders emptied by remote deletions go too, as they did on the other device; never the root. */
  private async removeEmptyFolders(folder: string): Promise<void> {
    for (let current = folder; current.startsWith(this.root + sep); current = dirname(current)) {
      try {
        // rmdir of a path through a symlink would remove an empty folder outside the root.
        await this.safe.checkFolder(current);
        await rmdir(current);
      } catch {
        return;
      }
    }
  }

  // ---- state ----

  // ---- moves ----

  /**
   * Local renames among the pass's changes: a deletion and an upload of one file (the same device
   * and inode with the synced size and mtime, or else the only deletion and the only new file of
   * that content: see pairLocalMoves) become one move, committed without an upload. A new file
   * only where this device has no synced file: a move never replaces one.
   */
  private withMoves(changes: PendingChange[]): PendingChange[] {
    const deletes = changes.filter((change): change is PendingDelete => change.kind === 'delete');
    const uploads = changes.filter(
      (change): change is PendingUpload =>
        change.kind === 'upload' && (this.scan.known.get(change.file.path)?.baseVersion ?? 0) === 0,
    );
    if (deletes.length === 0 || uploads.length === 0) return changes;
    const pairs = pairLocalMoves(
      deletes.map((change) => {
        const base = this.scan.known.get(change.path);
        // The synced content, and the local file's identity while it held exactly that.
        const inSync = base !== undefined && base.contentHash === base.baseContentHash;
        return { contentHash: base?.baseContentHash ?? '', fileId: inSync ? (base.fileId ?? '') : '' };
      }),
      uploads.map((change) => ({ contentHash: change.file.contentHash, fileId: change.file.fileId ?? '' })),
    );
    if (pairs.size === 0) return changes;
    const paired = new Set<PendingChange>();
    const moves: PendingMove[] = [];
    for (const [deleteIndex, uploadIndex] of pairs) {
      const source = deletes[deleteIndex]!;
      const target = uploads[uploadIndex]!;
      paired.add(source).add(target);
      moves.push({
        kind: 'move',
        file: target.file,
        baseVersion: target.baseVersion,
        from: source.path,
        fromBaseVersion: source.baseVersion,
      });
    }
    return [...changes.filter((change) => !paired.has(change)), ...moves];
  }

  /**
   * Applies moves made elsewhere by renaming: a download a move made (its entry names the path it
   * came from) whose source this pass deletes here, unchanged since the scan, with that content,
   * is a rename of the local file when nothing is at the new path. Each rename takes the download
   * and the deletion off the pass; anything else leaves both to run as usual.
   */
  private async renameMoved(localDeletes: ServerEntry[]): Promise<void> {
    const deleting = new Map(localDeletes.map((entry, index) => [entry.path, index] as const));
    const renamed = new Set<PendingDownload>();
    const applied = new Set<number>();
    for (const download of this.downloads) {
      const index = download.movedFrom ? deleting.get(download.movedFrom) : undefined;
      const file = index === undefined ? undefined : this.scan.files.get(download.movedFrom);
      if (!file || download.expected || file.contentHash !== download.contentHash) continue;
      if (this.scan.excluded(download.path) || this.scan.excluded(file.path)) continue;
      await this.guard(download.path, async () => {
        if (!(await this.renameLocal(file, download))) return;
        renamed.add(download);
        applied.add(index!);
      });
    }
    if (renamed.size === 0) return;
    const left = this.downloads.filter((download) => !renamed.has(download));
    this.downloads.splice(0, this.downloads.length, ...left);
    const kept = localDeletes.filter((_, index) => !applied.has(index));
    localDeletes.splice(0, localDeletes.length, ...kept);
  }

  /**
   * Renames `file` to the download's path; false (nothing done) when the file changed since the
   * scan or something is at the new path: the download and the deletion then run as usual.
   */
  private async renameLocal(file: LocalFile, download: PendingDownload): Promise<boolean> {
    await this.safe.checkTarget(file.absPath);
    const now = await lstat(file.absPath).catch(() => undefined);
    if (!now?.isFile() || !unchangedSince(now, file)) return false;
    const target = await onDiskPath(this.root, download.path, this.spellings);
    await this.safe.checkTarget(target, { create: true });
    // Never over something that appeared there: it is kept, and the download deals with it.
    if (
      await lstat(target).then(
        () => true,
        () => false,
      )
    )
      return false;
    await rename(file.absPath, target);
    // The rename moved the file's ctime: the row keeps the new one, unless the file changed in
    // between (then none, and the next scan reads it).
    const moved = await lstat(target).catch(() => undefined);
    const same =
      moved !== undefined &&
      moved.isFile() &&
      moved.size === file.size &&
      moved.mtimeMs === file.mtimeMs &&
      (!file.fileId || fileIdOf(moved) === file.fileId);
    const ctimeMs = same ? moved.ctimeMs : 0;
    this.deps.state.transaction(() => {
      this.deps.state.delete(this.root, file.path);
      this.deps.state.put(this.root, {
        path: download.path,
        baseVersion: download.version,
        baseContentHash: download.contentHash,
        size: file.size,
        mtimeMs: file.mtimeMs,
        contentHash: file.contentHash,
        blocks: file.blocks,
        ...(file.fileId ? { fileId: file.fileId } : {}),
        ctimeMs,
      });
    });
    this.summary.moved++;
    await this.removeEmptyFolders(dirname(file.absPath));
    return true;
  }

  private record(entry: ServerEntry): void {
    const file = this.scan.files.get(entry.path);
    if (entry.deleted || !file) {
      this.deps.state.delete(this.root, entry.path);
      return;
    }
    this.recordLocal(file, entry);
  }

  /** The local file now matches `entry`: make it the base. */
  private recordLocal(file: LocalFile, entry: ServerEntry): void {
    this.deps.state.put(this.root, {
      path: file.path,
      baseVersion: entry.version,
      baseContentHash: entry.contentHash || file.contentHash,
      size: file.size,
      mtimeMs: file.mtimeMs,
      contentHash: file.contentHash,
      blocks: file.blocks,
      ...(file.fileId ? { fileId: file.fileId } : {}),
      ctimeMs: file.ctimeMs ?? 0,
    });
  }

  // ---- helpers ----

  /** Runs work for one path; a failure is recorded and the pass goes on with other paths. */
  private async guard(path: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (error instanceof UnsafePathError) this.skip(path, error.message);
      else this.fail(path, errorText(error));
    }
  }

  /** A path left alone on purpose this pass: listed in the summary, never treated as deleted. */
  private skip(path: string, reason: string): void {
    this.deps.logger.warn({ path, reason }, 'path skipped');
    this.summary.skipped.push({ path, reason });
  }

  private fail(path: string, reason: string): void {
    // A file moved with its folder mid-pass fails at its old path; it is uploaded at the new one.
    if (this.superseded.has(path)) return;
    this.deps.logger.error({ path, reason }, 'path not synced');
    this.summary.failed.push({ path, reason });
  }

  /** Where a pass spends its time, for `FILESYNC_LOG_LEVEL=debug`. */
  private phaseStartedMs = Date.now();
  private phaseDone(phase: string, detail: Record<string, number> = {}): void {
    const now = Date.now();
    this.deps.logger.debug({ phase, ms: now - this.phaseStartedMs, ...detail }, 'sync phase done');
    this.phaseStartedMs = now;
  }

  private progress(
    phase: SyncProgress['phase'],
    done: number,
    total: number,
    unit: SyncProgress['unit'],
  ): void {
    this.options.onProgress?.({ phase, done, total, unit });
  }
}

/**
 * A path from the server is written below the folder root only when it obeys the same rules the
 * server enforces: a compromised or buggy server must not make the client write outside the
 * folder (`..`, absolute paths) or to a different path than the action names.
 */
function assertSafeAction(action: DiffAction): void {
  if (canonicalPath(action.path) !== action.path) throw new Error('server sent a non-canonical path');
  if (action.server && action.server.path !== action.path) {
    throw new Error(`server entry ${JSON.stringify(action.server.path)} does not match the action's path`);
  }
}

function isSafeAction(action: DiffAction): boolean {
  try {
    assertSafeAction(action);
    return true;
  } catch {
    return false;
  }
}

/** Whether a change's blocks are all stored: `value` is set once `promise` settled. */
interface Readiness {
  readonly promise: Promise<boolean>;
  value: boolean | undefined;
}

/** A change with nothing to upload. */
const STORED: Readiness = { promise: Promise.resolve(true), value: true };
/** A change whose upload already failed (its failure is recorded). */
const NOT_STORED: Readiness = { promise: Promise.resolve(false), value: false };

function settledFlag(promise: Promise<boolean>): Readiness {
  const readiness: Readiness = { promise, value: undefined };
  void promise.then((value) => (readiness.value = value));
  return readiness;
}

function changePath(change: PendingChange): string {
  return change.kind === 'delete' ? change.path : change.file.path;
}

function toFileChange(change: PendingChange): FileChange {
  if (change.kind === 'delete') {
    return {
      path: change.path,
      baseVersion: change.baseVersion,
      content: undefined,
      modifiedAtMs: Date.now(),
    };
  }
  const { file } = change;
  return {
    path: file.path,
    baseVersion: change.baseVersion,
    content: {
      contentHash: file.contentHash,
      size: file.size,
      blockHashes: file.blocks.map((block) => block.hash),
    },
    modifiedAtMs: Math.floor(file.mtimeMs),
    moveFrom: change.kind === 'move' ? { path: change.from, baseVersion: change.fromBaseVersion } : undefined,
  };
}

function* filterIterable<T>(source: Iterable<T>, keep: (item: T) => boolean): Generator<T> {
  for (const item of source) if (keep(item)) yield item;
}

function* concatIterables<T>(...sources: Iterable<T>[]): Generator<T> {
  for (const source of sources) yield* source;
}

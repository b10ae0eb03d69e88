import type { Stats } from 'node:fs';
import { lstatSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { sep } from 'node:path';
import { LIMITS } from '@filesync/resources';
import { canonicalPath, comparePaths, InvalidPathError } from '@filesync/sync-core';
import type { FileHash, Hasher } from '../hashing/hash-file';
import { fileIdOf, unchangedSince, type FileState, type StateDb } from '../state/state-db';
import type { ManifestEntry } from '../sync/model';
import { errorText } from '../storage/fs-error';
import { isOurTempName } from '../storage/temp-name';
import { loadIgnoreRules, type IgnoreRules } from './ignore-rules';
import { UnknownPaths } from './unknown-paths';

/** A local file as the scan found it. */
export interface LocalFile extends FileHash {
  /** Canonical folder-relative path (NFC, '/'). */
  readonly path: string;
  /** Where the file is on disk (its name as the file system spells it). */
  readonly absPath: string;
  readonly mtimeMs: number;
  /** Device and inode as the scan saw them (fileIdOf); '' or absent when unknown. */
  readonly fileId?: string;
  /** The ctime the scan saw (see unchangedSince); 0 or absent when unknown. */
  readonly ctimeMs?: number;
}

export interface SkippedPath {
  readonly path: string;
  readonly reason: string;
}

export interface ScanResult {
  readonly root: string;
  readonly files: ReadonlyMap<string, LocalFile>;
  /** Synced paths whose file is gone locally. */
  readonly deleted: readonly FileState[];
  /** State rows as they were before the scan (the bases). */
  readonly known: ReadonlyMap<string, FileState>;
  readonly skipped: readonly SkippedPath[];
  /**
   * What the scan could not see (each path with everything below it): never a deletion, and no
   * action of this pass may touch it. Every scan error lands here, as well as in `skipped`.
   */
  readonly unknown: UnknownPaths;
  /** True for paths the scan left alone on purpose: no action may touch them this round. */
  excluded(path: string): boolean;
  /** The ignore rules' fingerprint (IgnoreRules.fingerprint). */
  readonly rulesFingerprint: string;
}

/** One entry of a folder listing; names are raw bytes, since a name need not be valid UTF-8. */
export interface ScanDirEntry {
  readonly name: Buffer;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/**
 * The reads a scan makes of the folder (the hasher reads file contents). A port, so that the
 * faults of a real disk (a folder that cannot be read, a file gone between listing and stat) can
 * be injected where running as an unprivileged user is not possible.
 */
export interface ScanFileSystem {
  readdir(dir: string): Promise<ScanDirEntry[]>;
  /** Describes a symlink itself, never what it points to. */
  lstat(path: string): Promise<Stats>;
}

export const nodeScanFileSystem: ScanFileSystem = {
  readdir: (dir) => readdir(dir, { withFileTypes: true, encoding: 'buffer' }),
  // Synchronous underneath: an lstat of a cached inode takes microseconds, while a trip through
  // libuv's thread pool and back costs ten times that (20,000 files: 0.05 s against 0.3 to 0.8 s
  // on a busy machine). The walk yields to the event loop between batches (STAT_BATCH).
  lstat: async (path) => lstatSync(path),
};

export interface ScanOptions {
  readonly onFileHashed?: (file: LocalFile) => void;
  /** Absolute folders never synced, such as a filesync home placed inside the folder. */
  readonly privateFolders?: readonly string[];
  /** Default: node:fs. */
  readonly fileSystem?: ScanFileSystem;
  /**
   * Change nothing (`filesync sync --dry-run`): no partial download is removed and no hash is
   * cached in the state database; the result is what a writing scan would see.
   */
  readonly readOnly?: boolean;
  /**
   * Read the state database's rows as a hash cache only, as if nothing had been synced (a dry run
   * of a folder synced with another namespace: see StateDb.forgetSyncedBase).
   */
  readonly withoutSyncedBase?: boolean;
  /**
   * Most UTF-8 bytes of a folder path (default LIMITS.maxPathBytes): less in a folder bound to a
   * remote path, whose namespace paths are longer (see pathRoom). A longer one is skipped.
   */
  readonly maxPathBytes?: number;
}

/** The synced folder itself cannot be listed: the pass must stop, since every file would look gone. */
export class FolderUnreadableError extends Error {
  override name = 'FolderUnreadableError';
  constructor(
    readonly root: string,
    cause: Error,
  ) {
    super(`cannot read the synced folder ${root}: ${errorText(cause)}; nothing was changed`, { cause });
  }
}

/** Reasons a path is skipped, worded for the person reading the summary. */
export const SKIP_REASONS = {
  symlink: 'a symbolic link: not followed, and nothing is written through it',
  special: 'not a regular file or folder',
  undecodable:
    'the name is not valid UTF-8, so it cannot be synced; shown with \\xNN for its undecodable bytes, which is not its real name',
  vanished: 'disappeared during the scan; it syncs next time',
  changedType: 'changed from a file to something else during the scan; it syncs next time',
  changedWhileRead: 'changed while being read; it syncs next time',
} as const;

/** Files stat'ed between two turns of the event loop, so transfers in flight are not starved. */
const STAT_BATCH = 1000;
/** Files hashed at once; the hasher itself bounds CPU, this bounds open files. */
const HASH_CONCURRENCY = 8;
/** Hash cache rows written per state transaction during a scan. */
const HASHED_ROWS_PER_TRANSACTION = 500;
/** Names must decode exactly: a lossy decode would name a different file (or none). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Walks a synced folder: regular files only (symlinks are skipped, never followed), honouring
 * .filesyncignore. A file whose size and mtime match the state database keeps its cached hash;
 * others are chunked and hashed, and the cache is updated. Synced paths whose file is gone come
 * back as deletions, unless the scan could not see them (`unknown`).
 *
 * Runs under the sync lock (sync-lock.ts): no download of ours is in progress, so every temp file
 * of ours it finds was left by a killed run and is removed.
 */
export async function scanFolder(
  root: string,
  state: StateDb,
  hasher: Hasher,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const fs = options.fileSystem ?? nodeScanFileSystem;
  const rules = await loadIgnoreRules(root);
  const known = state.files(root);
  if (options.withoutSyncedBase) {
    for (const [path, row] of known) known.set(path, { ...row, baseVersion: 0, baseContentHash: '' });
  }
  const skipped: SkippedPath[] = [];
  const unknown = new UnknownPaths();
  // Only what hashing needs: a Stats object per file would cost hundreds of bytes each.
  const found: {
    path: string;
    absPath: string;
    size: number;
    mtimeMs: number;
    ctimeMs: number;
    fileId: string;
  }[] = [];
  const seen = new Set<string>();
  const privateFolders = new Set(options.privateFolders);
  const maxPathBytes = options.maxPathBytes;
  const cannotSee = (path: string, reason: string) => {
    skipped.push({ path, reason });
    unknown.add(path);
  };

  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries: ScanDirEntry[];
    try {
      // Listed as a folder by its parent, it may have become a symlink since: never list through one.
      if (prefix !== '' && (await fs.lstat(dir)).isSymbolicLink()) {
        cannotSee(prefix, SKIP_REASONS.symlink);
        return;
      }
      entries = await fs.readdir(dir);
    } catch (error) {
      if (prefix === '') throw new FolderUnreadableError(root, error as Error);
      cannotSee(prefix, errorReason(error, 'cannot read folder'));
      return;
    }
    const files: { path: string; absPath: string }[] = [];
    const folders: { path: string; absPath: string }[] = [];
    for (const entry of entries) {
      const name = decodeName(entry.name);
      if (name === undefined) {
        // Reported under a form no synced path can have, and not made unknown: a lossy decode
        // (U+FFFD) could be the exact name of a real file, which would then never sync. No server
        // path can name this file or anything below it, so there is nothing to protect.
        const shown = displayUndecodable(entry.name);
        skipped.push({ path: prefix ? `${prefix}/${shown}` : shown, reason: SKIP_REASONS.undecodable });
        continue;
      }
      const raw = prefix ? `${prefix}/${name}` : name;
      let path: string;
      try {
        path = canonicalPath(raw);
      } catch (error) {
        if (!(error instanceof InvalidPathError)) throw error;
        skipped.push({ path: raw, reason: error.message });
        unknown.add(raw.normalize('NFC'));
        continue;
      }
      // `dir` is absolute and normalized (the real path of the root, then names appended), and a
      // listed name is one segment, never '.' or '..': what join() would make, without its
      // normalizing pass over the whole path for each of 100,000 files.
      const absPath = dir.endsWith(sep) ? dir + name : dir + sep + name;
      if (entry.isFile() && isOurTempName(name)) {
        if (!options.readOnly) await removeLeftover(absPath, path, skipped);
        continue;
      }
      if (entry.isFile() ? rules.ignores(path) : rules.ignores(path, true)) continue;
      // Its namespace path would break the path rules: never synced, never taken for deleted.
      if (maxPathBytes !== undefined && Buffer.byteLength(path, 'utf8') > maxPathBytes) {
        cannotSee(
          path,
          `path is longer than ${maxPathBytes} bytes, the most this folder's remote path leaves ` +
            `(${LIMITS.maxPathBytes} in all)`,
        );
        continue;
      }
      if (entry.isSymbolicLink()) {
        cannotSee(path, SKIP_REASONS.symlink);
        continue;
      }
      if (entry.isDirectory()) {
        // The filesync home inside the folder: neither synced nor written into by downloads.
        if (privateFolders.has(absPath)) unknown.add(path);
        else folders.push({ path, absPath });
        continue;
      }
      if (!entry.isFile()) {
        cannotSee(path, SKIP_REASONS.special);
        continue;
      }
      if (seen.has(path)) {
        skipped.push({ path: raw, reason: 'another file has the same name after Unicode normalisation' });
        continue;
      }
      seen.add(path);
      files.push({ path, absPath });
    }
    await statFiles(files);
    for (const folder of folders) await walk(folder.absPath, folder.path);
  };
  let statted = 0;
  const statFiles = async (files: { path: string; absPath: string }[]): Promise<void> => {
    for (const { path, absPath } of files) {
      if (++statted % STAT_BATCH === 0) await new Promise(setImmediate);
      let stats: Stats;
      try {
        stats = await fs.lstat(absPath);
      } catch (error) {
        cannotSee(path, errorReason(error, 'cannot stat'));
        continue;
      }
      if (!stats.isFile()) cannotSee(path, SKIP_REASONS.changedType);
      else
        found.push({
          path,
          absPath,
          size: stats.size,
          mtimeMs: stats.mtimeMs,
          ctimeMs: stats.ctimeMs,
          fileId: fileIdOf(stats),
        });
    }
  };
  await walk(root, '');
  // `excluded` below keeps this scope alive: what only the walk needed must not stay with it.
  seen.clear();

  const files = new Map<string, LocalFile>();
  // The hash cache rows of files read now, written many to a transaction: one each cost more
  // than hashing a small file. Rows lost to a crash only mean reading those files again.
  const hashedRows: FileState[] = [];
  const writeHashedRows = () => {
    const rows = hashedRows.splice(0);
    if (rows.length > 0 && !options.readOnly)
      state.transaction(() => rows.forEach((row) => state.put(root, row)));
  };
  // Where a file that moved here came from: built on first need, since a pass where every file
  // kept its size and mtime (most passes) never asks.
  let movedFrom: ReturnType<typeof goneByFileId> | undefined;
  const goneWith = (fileId: string) => (movedFrom ??= goneByFileId(known, found)).get(fileId);
  const hashOne = async (seen: (typeof found)[number]): Promise<void> => {
    const { path, absPath, size, mtimeMs, ctimeMs, fileId } = seen;
    const cached = known.get(path);
    const unchanged = cached && unchangedSince(seen, cached) && cached.contentHash;
    // A synced path gone this scan whose file this is (same identity, size, mtime and ctime):
    // moved, and its hash holds as a path's own cached hash would. That is a file below a renamed
    // folder (its own inode untouched). A file renamed itself has a new ctime, like a file edited
    // with its mtime put back and then renamed: it is read, and the engine still pairs it with its
    // old path as a move when the content is the same. A reused inode has another size or mtime.
    const gone = unchanged || !fileId ? undefined : goneWith(fileId);
    const moved = gone && unchangedSince(seen, gone) ? gone : undefined;
    let hash: FileHash;
    if (unchanged) {
      hash = cached;
      // Identities and ctimes are recorded as files are seen (rows written before they were kept,
      // and rows of files a pass renamed, have none).
      if ((cached.fileId ?? '') !== fileId || !cached.ctimeMs)
        hashedRows.push({ ...cached, fileId, ctimeMs });
    } else if (moved) {
      hash = moved;
      hashedRows.push({
        path,
        baseVersion: cached?.baseVersion ?? 0,
        baseContentHash: cached?.baseContentHash ?? '',
        size,
        mtimeMs,
        contentHash: moved.contentHash,
        blocks: moved.blocks,
        fileId,
        ctimeMs,
      });
    } else {
      try {
        // What the path (or the file, if it moved here) held: its blocks are kept where their
        // bytes still are, so an edit re-uploads only what it touched.
        hash = await hasher.hash(absPath, size, cached?.blocks ?? gone?.blocks);
      } catch (error) {
        // A file-system error concerns this file only; anything else (a dead hash worker) is
        // not the file's fault and must stop the scan rather than hide files from it.
        if (!(error as NodeJS.ErrnoException).code) throw error;
        cannotSee(path, errorReason(error, 'cannot read'));
        return;
      }
      const after = await fs.lstat(absPath).catch(() => undefined);
      if (!after || !unchangedSince(after, seen) || hash.size !== size) {
        cannotSee(path, SKIP_REASONS.changedWhileRead);
        return;
      }
      hashedRows.push({
        path,
        baseVersion: cached?.baseVersion ?? 0,
        baseContentHash: cached?.baseContentHash ?? '',
        size,
        mtimeMs,
        contentHash: hash.contentHash,
        blocks: hash.blocks,
        fileId,
        ctimeMs,
      });
    }
    const file: LocalFile = {
      path,
      absPath,
      mtimeMs,
      size: hash.size,
      contentHash: hash.contentHash,
      blocks: hash.blocks,
      fileId,
      ctimeMs,
    };
    files.set(path, file);
    if (hashedRows.length >= HASHED_ROWS_PER_TRANSACTION) writeHashedRows();
    options.onFileHashed?.(file);
  };
  // A fixed pool pulling from the list, not one pending promise per file: 100,000 files must not
  // mean 100,000 closures queued at once.
  let next = 0;
  const hashers = Array.from({ length: HASH_CONCURRENCY }, async () => {
    while (next < found.length) await hashOne(found[next++]!);
  });
  await Promise.all(hashers);
  writeHashedRows();
  found.length = 0;
  movedFrom = undefined;

  const skippedPaths = new Set(skipped.map((entry) => entry.path));
  const excluded = (path: string) =>
    unknown.covers(path) || skippedPaths.has(path) || rules.ignores(path) || ignoredBelow(rules, path);
  const deleted: FileState[] = [];
  for (const row of known.values()) {
    if (files.has(row.path) || excluded(row.path)) continue;
    // A path never synced that vanished is just forgotten; a synced one is a local deletion.
    if (row.baseVersion > 0) deleted.push(row);
    else if (!options.readOnly) state.delete(root, row.path);
  }
  return { root, files, deleted, known, skipped, unknown, excluded, rulesFingerprint: rules.fingerprint };
}

/**
 * The hash-cache rows of paths the walk did not find, by file identity: where a file renamed
 * since the last scan came from. An identity two such rows share says nothing and is left out.
 */
function goneByFileId(
  known: ReadonlyMap<string, FileState>,
  found: readonly { readonly path: string }[],
): Map<string, FileState & { readonly size: number }> {
  const present = new Set(found.map((file) => file.path));
  const byId = new Map<string, FileState>();
  const shared = new Set<string>();
  for (const row of known.values()) {
    if (!row.fileId || !row.contentHash || present.has(row.path)) continue;
    if (byId.has(row.fileId)) shared.add(row.fileId);
    byId.set(row.fileId, row);
  }
  for (const id of shared) byId.delete(id);
  return byId;
}

/** A partial download of a killed run: never synced, and removed so it does not pile up. */
async function removeLeftover(absPath: string, path: string, skipped: SkippedPath[]): Promise<void> {
  try {
    await rm(absPath, { force: true });
  } catch (error) {
    skipped.push({
      path,
      reason: errorReason(error, 'a partial download left by an earlier run cannot be removed'),
    });
  }
}

/**
 * A name that is not valid UTF-8, readable: each byte that does not decode as `\xNN`. The
 * backslash makes it a name no synced path can have (sync-core refuses backslashes).
 */
export function displayUndecodable(name: Buffer): string {
  let shown = '';
  let start = 0;
  while (start < name.length) {
    let end = name.length;
    // The longest run from `start` that decodes; the byte that stops it is shown in hex.
    while (end > start && decodeName(name.subarray(start, end)) === undefined) end--;
    if (end > start) {
      shown += decodeName(name.subarray(start, end));
      start = end;
    } else {
      shown += `\\x${name[start]!.toString(16).padStart(2, '0')}`;
      start++;
    }
  }
  return shown;
}

function decodeName(name: Buffer): string | undefined {
  try {
    return utf8.decode(name);
  } catch {
    return undefined;
  }
}

/** A file-system error as a skip reason; a path gone since it was listed is said so plainly. */
function errorReason(error: unknown, what: string): string {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return SKIP_REASONS.vanished;
  return `${what}: ${errorText(error)}`;
}

/** True when a folder above `path` is ignored (the walk never went in there). */
function ignoredBelow(rules: IgnoreRules, path: string): boolean {
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    if (rules.ignores(segments.slice(0, i).join('/'), true)) return true;
  }
  return false;
}

/**
 * The manifest Diff expects: one entry per local file and per synced path now gone. Nothing under
 * an unknown path is listed, least of all as deleted: the server then offers it as a download,
 * which the engine leaves alone for the same reason.
 */
export function manifestOf(scan: ScanResult): ManifestEntry[] {
  return [...manifestEntries(scan)];
}

/**
 * manifestOf one entry at a time: only the sorted paths are held, each entry is made as the
 * diff stream takes it (100,000 files need not mean 100,000 entries in memory at once).
 */
export function* manifestEntries(scan: ScanResult): Generator<ManifestEntry> {
  const paths = [...scan.files.keys()].filter((path) => !scan.unknown.covers(path));
  for (const gone of scan.deleted) if (!scan.unknown.covers(gone.path)) paths.push(gone.path);
  // The order the server lists in and sync-diff merges by (comparePaths), not JavaScript's `<`.
  paths.sort(comparePaths);
  for (const path of paths) yield manifestEntry(scan, path);
}

/**
 * The manifest of an incremental diff: the paths whose local file differs from the synced base
 * (new, edited, deleted; an upload that failed last time stays different until it commits),
 * plus `recheck` (paths with server changes not applied yet), sorted by comparePaths. A path
 * the scan could not see or left alone is never named: the server would take it for absent.
 */
export function changedManifest(scan: ScanResult, recheck: Iterable<string>): ManifestEntry[] {
  const paths = new Set<string>();
  for (const file of scan.files.values()) {
    const base = scan.known.get(file.path);
    if (!base || base.baseVersion === 0 || base.baseContentHash !== file.contentHash) paths.add(file.path);
  }
  for (const gone of scan.deleted) paths.add(gone.path);
  for (const path of recheck) paths.add(path);
  return [...paths]
    .filter((path) => !scan.excluded(path))
    .sort(comparePaths)
    .map((path) => manifestEntry(scan, path));
}

/** What the scan knows of one path, as a manifest entry. */
export function manifestEntry(scan: ScanResult, path: string): ManifestEntry {
  const base = scan.known.get(path);
  const baseVersion = base?.baseVersion ?? 0;
  const baseContentHash = base?.baseContentHash ?? '';
  const file = scan.files.get(path);
  if (file) {
    return {
      path,
      contentHash: file.contentHash,
      size: file.size,
      baseVersion,
      baseContentHash,
      deleted: false,
    };
  }
  // Gone here: a deletion when it was synced, else a path this device simply does not have.
  return { path, contentHash: '', size: 0, baseVersion, baseContentHash, deleted: baseVersion > 0 };
}

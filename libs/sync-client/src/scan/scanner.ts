import type { Dirent, Stats } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { syncdiff } from '@filesync/contracts';
import { canonicalPath, InvalidPathError } from '@filesync/sync-core';
import type { FileHash, Hasher } from '../hashing/hash-file';
import type { FileState, StateDb } from '../state/state-db';
import { loadIgnoreRules, TEMP_PREFIX, type IgnoreRules } from './ignore-rules';
import { undecodableNames } from './undecodable-names';

/** A local file as the scan found it. */
export interface LocalFile extends FileHash {
  /** Canonical folder-relative path (NFC, '/'). */
  readonly path: string;
  /** Where the file is on disk (its name as the file system spells it). */
  readonly absPath: string;
  readonly mtimeMs: number;
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
  /** True for paths the scan left alone on purpose: no action may touch them this round. */
  excluded(path: string): boolean;
}

export interface ScanOptions {
  readonly onFileHashed?: (file: LocalFile) => void;
  /** Absolute folders never synced, such as a filesync home placed inside the folder. */
  readonly privateFolders?: readonly string[];
}

/** Files hashed at once; the hasher itself bounds CPU, this bounds open files. */
const HASH_CONCURRENCY = 8;
/** A download's temp file older than this was left by a crash; a running download keeps writing. */
const STALE_TEMP_MS = 60 * 60_000;

/**
 * Walks a synced folder: regular files only (symlinks are skipped, never followed), honouring
 * .filesyncignore. A file whose size and mtime match the state database keeps its cached hash;
 * others are chunked and hashed, and the cache is updated. Synced paths whose file is gone come
 * back as deletions.
 */
export async function scanFolder(
  root: string,
  state: StateDb,
  hasher: Hasher,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const rules = await loadIgnoreRules(root);
  const known = state.files(root);
  const skipped: SkippedPath[] = [];
  const found: { path: string; absPath: string; stats: Stats }[] = [];
  const seen = new Set<string>();
  const privateFolders = new Set(options.privateFolders);

  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      skipped.push({ path: prefix, reason: `cannot read folder: ${(error as Error).message}` });
      return;
    }
    let undecodable: Map<string, string> | undefined;
    for (const entry of entries) {
      const raw = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.name.includes('\ufffd')) {
        undecodable ??= await undecodableNames(dir).catch(() => new Map<string, string>());
        const reason = undecodable.get(entry.name);
        if (reason) {
          skipped.push({ path: raw, reason });
          continue;
        }
      }
      let path: string;
      try {
        path = canonicalPath(raw);
      } catch (error) {
        if (!(error instanceof InvalidPathError)) throw error;
        skipped.push({ path: raw, reason: error.message });
        continue;
      }
      const absPath = join(dir, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
        await removeIfStale(absPath);
        continue;
      }
      if (entry.isDirectory()) {
        if (!rules.ignores(path, true) && !privateFolders.has(absPath)) await walk(absPath, path);
        continue;
      }
      if (!entry.isFile() || rules.ignores(path)) continue;
      if (seen.has(path)) {
        skipped.push({ path: raw, reason: 'another file has the same name after Unicode normalisation' });
        continue;
      }
      seen.add(path);
      try {
        found.push({ path, absPath, stats: await stat(absPath) });
      } catch (error) {
        skipped.push({ path, reason: `cannot stat: ${(error as Error).message}` });
      }
    }
  };
  await walk(root, '');

  const files = new Map<string, LocalFile>();
  const limit = pLimit(HASH_CONCURRENCY);
  await Promise.all(
    found.map(({ path, absPath, stats }) =>
      limit(async () => {
        const cached = known.get(path);
        const unchanged =
          cached && cached.size === stats.size && cached.mtimeMs === stats.mtimeMs && cached.contentHash;
        let hash: FileHash;
        if (unchanged) {
          hash = cached;
        } else {
          try {
            hash = await hasher.hash(absPath, stats.size);
          } catch (error) {
            // A file-system error concerns this file only; anything else (a dead hash worker) is
            // not the file's fault and must stop the scan rather than hide files from it.
            if (!(error as NodeJS.ErrnoException).code) throw error;
            skipped.push({ path, reason: `cannot read: ${(error as Error).message}` });
            return;
          }
          const after = await stat(absPath).catch(() => undefined);
          if (
            !after ||
            after.size !== stats.size ||
            after.mtimeMs !== stats.mtimeMs ||
            hash.size !== stats.size
          ) {
            skipped.push({ path, reason: 'changed while being read; it syncs next time' });
            return;
          }
          state.put(root, {
            path,
            baseVersion: cached?.baseVersion ?? 0,
            baseContentHash: cached?.baseContentHash ?? '',
            size: stats.size,
            mtimeMs: stats.mtimeMs,
            contentHash: hash.contentHash,
            blocks: hash.blocks,
          });
        }
        const file: LocalFile = {
          path,
          absPath,
          mtimeMs: stats.mtimeMs,
          size: hash.size,
          contentHash: hash.contentHash,
          blocks: hash.blocks,
        };
        files.set(path, file);
        options.onFileHashed?.(file);
      }),
    ),
  );

  const skippedPaths = new Set(skipped.map((entry) => entry.path));
  const excluded = (path: string) =>
    skippedPaths.has(path) || rules.ignores(path) || ignoredBelow(rules, path);
  const deleted: FileState[] = [];
  for (const row of known.values()) {
    if (files.has(row.path) || excluded(row.path)) continue;
    // A path never synced that vanished is just forgotten; a synced one is a local deletion.
    if (row.baseVersion > 0) deleted.push(row);
    else state.delete(root, row.path);
  }
  return { root, files, deleted, known, skipped, excluded };
}

async function removeIfStale(path: string): Promise<void> {
  const stats = await stat(path).catch(() => undefined);
  if (stats && Date.now() - stats.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
}

/** True when a folder above `path` is ignored (the walk never went in there). */
function ignoredBelow(rules: IgnoreRules, path: string): boolean {
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    if (rules.ignores(segments.slice(0, i).join('/'), true)) return true;
  }
  return false;
}

/** The manifest Diff expects: one entry per local file and per synced path now gone. */
export function manifestOf(scan: ScanResult): syncdiff.ManifestEntry[] {
  const entries: syncdiff.ManifestEntry[] = [];
  for (const file of scan.files.values()) {
    const base = scan.known.get(file.path);
    entries.push({
      path: file.path,
      contentHash: file.contentHash,
      size: file.size,
      baseVersion: base?.baseVersion ?? 0,
      baseContentHash: base?.baseContentHash ?? '',
      deleted: false,
    });
  }
  for (const gone of scan.deleted) {
    entries.push({
      path: gone.path,
      contentHash: '',
      size: 0,
      baseVersion: gone.baseVersion,
      baseContentHash: gone.baseContentHash,
      deleted: true,
    });
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

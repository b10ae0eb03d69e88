import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalPath } from '@filesync/sync-core';
import { loadIgnoreRules } from '../scan/ignore-rules';
import { unchangedSince, type FileState, type StateDb } from '../state/state-db';

/** A file as the synced base has it, unchanged since: its last pass recorded exactly this. */
function matchesBase(row: FileState | undefined, stats: Stats): boolean {
  return (
    row !== undefined &&
    row.baseVersion > 0 &&
    row.contentHash === row.baseContentHash &&
    unchangedSince(stats, row)
  );
}

/**
 * True when every path that file-system events named is what the synced base holds (a file the
 * last pass wrote or saw, unchanged since by size, mtime and ctime; or a path that neither exists nor
 * was synced). The events of a pass's own downloads and deletions are such: no pass is needed
 * for them. Anything else, or any doubt, is false. Only lstat: nothing is read or hashed.
 */
export async function eventsSettled(root: string, paths: Iterable<string>, state: StateDb): Promise<boolean> {
  for (const raw of paths) {
    let path: string;
    try {
      path = canonicalPath(raw);
    } catch {
      return false;
    }
    const stats = await lstat(join(root, ...raw.split('/'))).catch((error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' || error.code === 'ENOTDIR' ? null : undefined,
    );
    if (stats === undefined) return false;
    const row = state.get(root, path);
    if (stats === null) {
      if ((row?.baseVersion ?? 0) > 0 || state.syncedBelow(root, path)) return false;
      continue;
    }
    // A folder's files raise events of their own; a folder alone syncs nothing.
    if (stats.isDirectory()) continue;
    if (!stats.isFile() || !matchesBase(row, stats)) return false;
  }
  return true;
}

/**
 * How many paths of a synced folder differ from its synced base, by size, mtime and ctime against the
 * state database (no file is read): new and edited files, and synced files gone (deletions).
 * Honours .filesyncignore; symlinks, special files and `privateFolders` are not counted. A
 * folder that cannot be listed counts nothing below it, as a pass would.
 */
export async function countLocalChanges(
  root: string,
  state: StateDb,
  privateFolders: readonly string[] = [],
): Promise<number> {
  const rules = await loadIgnoreRules(root);
  const rows = state.files(root);
  const seen = new Set<string>();
  const unreadable: string[] = [];
  let changed = 0;
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      unreadable.push(prefix);
      return;
    }
    for (const entry of entries) {
      let path: string;
      try {
        path = canonicalPath(prefix ? `${prefix}/${entry.name}` : entry.name);
      } catch {
        continue;
      }
      const absolute = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (privateFolders.includes(absolute) || rules.ignores(path, true)) continue;
        await walk(absolute, path);
        continue;
      }
      if (!entry.isFile() || rules.ignores(path)) continue;
      seen.add(path);
      const stats = await lstat(absolute).catch(() => undefined);
      if (stats && !matchesBase(rows.get(path), stats)) changed += 1;
    }
  };
  await walk(root, '');
  const hidden = (path: string) =>
    rules.ignores(path) || unreadable.some((folder) => folder === '' || path.startsWith(`${folder}/`));
  for (const row of rows.values()) {
    if (row.baseVersion > 0 && !seen.has(row.path) && !hidden(row.path)) changed += 1;
  }
  return changed;
}

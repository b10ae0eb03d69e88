import { access, constants, lstat, mkdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

export const UNSAFE_PATH_REASONS = {
  symlinkOnPath: 'a folder on the path is a symbolic link',
  notAFolderOnPath: 'a file or special file is where a folder on the path should be',
  symlinkAtPath: 'the path is a symbolic link',
  outside: 'the path is outside the synced folder',
  unreadable:
    'the local file cannot be read (permission denied): it is not replaced or deleted until it can be',
} as const;

/**
 * A local write refused because it would go through (or replace) something that is not a real
 * folder of the synced folder: the path is skipped this pass and reported, never written through.
 */
export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
}

/**
 * Every write of a pass (temp file, rename into place, conflicted-copy rename, delete, folder
 * creation or removal) goes through these checks right before it happens, because the tree can
 * change during a pass. Each folder from the root down is lstat-ed, which never follows a link:
 * a symlink anywhere on the path stops the write instead of sending it outside the folder.
 * (A link planted between the check and the write itself cannot be excluded without openat(2),
 * which Node does not offer; the window is a few system calls.)
 */
export class SafePaths {
  constructor(private readonly root: string) {}

  /**
   * `folder` (absolute, at or below the root) and every folder above it are real folders; with
   * `create`, missing ones are created one level at a time. The root itself must exist: a synced
   * folder that vanished during the pass is never re-created (an empty folder looks like a wipe).
   */
  async checkFolder(folder: string, options: { create?: boolean } = {}): Promise<void> {
    const rel = relative(this.root, folder);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new UnsafePathError(UNSAFE_PATH_REASONS.outside);
    const rootStats = await lstatOrUndefined(this.root);
    if (!rootStats?.isDirectory()) throw new Error(`the synced folder ${this.root} is gone`);
    let current = this.root;
    for (const segment of rel === '' ? [] : rel.split(sep)) {
      current = join(current, segment);
      let stats = await lstatOrUndefined(current);
      if (!stats) {
        // Nothing below a missing folder exists to be written through.
        if (!options.create) return;
        await mkdir(current).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
        });
        stats = await lstat(current);
      }
      if (stats.isSymbolicLink()) throw new UnsafePathError(UNSAFE_PATH_REASONS.symlinkOnPath);
      if (!stats.isDirectory()) throw new UnsafePathError(UNSAFE_PATH_REASONS.notAFolderOnPath);
    }
  }

  /** The folders above `target` are real folders (created with `create`) and `target` is no symlink. */
  async checkTarget(target: string, options: { create?: boolean } = {}): Promise<void> {
    await this.checkFolder(dirname(target), options);
    if ((await lstatOrUndefined(target))?.isSymbolicLink())
      throw new UnsafePathError(UNSAFE_PATH_REASONS.symlinkAtPath);
  }
}

/**
 * A local file this process cannot read is unknown to it: its cached hash may be stale, so
 * replacing or deleting it could destroy bytes no device has. Checked right before the write
 * (access(2), not a hash), since the scan trusts size and mtime and a chmod changes neither.
 */
export async function assertReadable(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new UnsafePathError(UNSAFE_PATH_REASONS.unreadable);
    if (code !== 'ENOENT') throw error;
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

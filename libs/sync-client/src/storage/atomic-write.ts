import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { newTempName } from './temp-name';

export interface AtomicWriteOptions {
  /** Modification time to give the file, Unix milliseconds. */
  readonly mtimeMs?: number;
  /**
   * Called after the bytes are durable and just before the rename, so the caller can make sure
   * it is not about to replace something it has not seen.
   */
  readonly beforeReplace?: () => Promise<void>;
  /**
   * Makes sure the target's folder exists and may be written in, right before the temp file is
   * created there (the sync engine refuses a folder reached through a symlink). Default: mkdir -p.
   */
  readonly prepareFolder?: (folder: string) => Promise<void>;
}

/**
 * Writes a file so that readers see the old content or the whole new content, never a mix: the
 * bytes go to a temp file beside the target (same file system, so rename is atomic), are
 * fsynced, then renamed over the target. On failure the temp file is removed.
 *
 * Returns the file's stats as written, before the rename: what the target holds is ours only
 * while it is still that inode with that size and mtime (see isWhatWasWritten).
 */
export async function writeFileAtomically(
  target: string,
  write: (handle: FileHandle) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<Stats> {
  const folder = dirname(target);
  if (options.prepareFolder) await options.prepareFolder(folder);
  else await mkdir(folder, { recursive: true });
  const temp = join(folder, newTempName());
  // A replaced file keeps its permission bits: a remote edit must not make a private file (600)
  // readable by others. The temp file has them from its creation, so the bytes are never exposed.
  const replaced = await modeOf(target);
  const handle = await open(temp, 'wx', replaced ?? 0o644);
  let written: Stats;
  try {
    try {
      // open() applies the umask; the old file's bits are restored exactly.
      if (replaced !== undefined) await handle.chmod(replaced);
      await write(handle);
      await handle.sync();
      if (options.mtimeMs !== undefined) {
        const time = new Date(options.mtimeMs);
        await handle.utimes(time, time);
      }
      written = await handle.stat();
    } finally {
      await handle.close();
    }
    await options.beforeReplace?.();
    // The file there now may have had its mode changed since (or be gone: the temp keeps its own).
    const current = await modeOf(target);
    if (current !== undefined && current !== replaced) await chmod(temp, current);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return written;
}

/**
 * Whether `now` (an lstat of the target after writeFileAtomically) is still the file that was
 * written: same inode, size and mtime. Anything else was put there by someone else since.
 */
export function isWhatWasWritten(now: Stats | undefined, written: Stats): now is Stats {
  return (
    now !== undefined &&
    now.isFile() &&
    now.dev === written.dev &&
    now.ino === written.ino &&
    now.size === written.size &&
    now.mtimeMs === written.mtimeMs
  );
}

/** The permission bits of the regular file at `path`, if there is one (never setuid and the like). */
async function modeOf(path: string): Promise<number | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  return stats?.isFile() ? stats.mode & 0o777 : undefined;
}

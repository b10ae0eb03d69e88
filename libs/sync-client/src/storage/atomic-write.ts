import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
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
 */
export async function writeFileAtomically(
  target: string,
  write: (handle: FileHandle) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const folder = dirname(target);
  if (options.prepareFolder) await options.prepareFolder(folder);
  else await mkdir(folder, { recursive: true });
  const temp = join(folder, newTempName());
  const handle = await open(temp, 'wx', 0o644);
  try {
    try {
      await write(handle);
      await handle.sync();
      if (options.mtimeMs !== undefined) {
        const time = new Date(options.mtimeMs);
        await handle.utimes(time, time);
      }
    } finally {
      await handle.close();
    }
    await options.beforeReplace?.();
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

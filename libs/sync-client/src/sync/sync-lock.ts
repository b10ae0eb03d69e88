import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export class SyncBusyError extends Error {
  override name = 'SyncBusyError';
}

/**
 * One sync at a time per filesync home: two passes over the same state database would each
 * see the other's half-done work as local edits. The lock file holds the owner's pid, so a lock
 * left by a crashed run is taken over.
 */
export async function acquireSyncLock(home: string): Promise<() => Promise<void>> {
  const file = join(home, 'sync.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (owner && isAlive(owner)) {
        throw new SyncBusyError(`another filesync sync is running for this home (pid ${owner})`);
      }
      await rm(file, { force: true });
    }
  }
  throw new SyncBusyError('could not take the sync lock');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

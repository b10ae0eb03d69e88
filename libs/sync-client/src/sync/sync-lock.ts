import { join } from 'node:path';
import { acquirePidLock, LockHeldError } from '@filesync/sync-core';
import { SyncBusyError } from './sync-busy-error';

export { SyncBusyError };

/**
 * One sync at a time per filesync home: two passes over the same state database would each
 * see the other's half-done work as local edits. A lock left by a crashed run is taken over.
 */
export async function acquireSyncLock(home: string): Promise<() => Promise<void>> {
  try {
    const release = acquirePidLock(join(home, 'sync.lock'), 0o600);
    return async () => release();
  } catch (error) {
    if (error instanceof LockHeldError) throw new SyncBusyError(error.pid);
    throw error;
  }
}

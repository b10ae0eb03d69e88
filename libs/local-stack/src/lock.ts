import { acquirePidLock, LockHeldError } from '@filesync/sync-core';

/** Another stack holds the lock. */
export class StackAlreadyRunningError extends Error {
  constructor(readonly pid: number) {
    super(
      `the filesync local stack is already running (pid ${pid}): use it, or stop it with Ctrl-C in its terminal or \`kill ${pid}\``,
    );
    this.name = 'StackAlreadyRunningError';
  }
}

/**
 * Takes the stack's lock file for this process; a lock of a live stack throws
 * StackAlreadyRunningError. Returns the release function.
 */
export function acquireLock(file: string): () => void {
  try {
    return acquirePidLock(file);
  } catch (error) {
    if (error instanceof LockHeldError) throw new StackAlreadyRunningError(error.pid);
    throw error;
  }
}

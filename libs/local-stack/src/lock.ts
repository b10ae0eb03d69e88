import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Another stack holds the lock. */
export class StackAlreadyRunningError extends Error {
  constructor(readonly pid: number) {
    super(
      `the filesync local stack is already running (pid ${pid}): use it, or stop it with Ctrl-C in its terminal or \`kill ${pid}\``,
    );
    this.name = 'StackAlreadyRunningError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock file for this process. A lock left by a process that died is taken over; a lock
 * of a live process throws StackAlreadyRunningError. Returns the release function.
 */
export function acquireLock(file: string): () => void {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        if (readLockPid(file) === process.pid) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLockPid(file);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new StackAlreadyRunningError(holder);
    }
    rmSync(file, { force: true });
  }
  throw new Error(`could not take the lock ${file}`);
}

function readLockPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

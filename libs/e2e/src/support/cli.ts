import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_PASSWORD } from '@filesync/test-support';
import { repoRootOf } from '@filesync/test-support/runner';
import { tempDir } from './trees';

/** The user and group `nobody`: root reads through chmod 000, so permission cases run the CLI as it. */
const NOBODY = 65534;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Run it as `nobody` when the tests run as root (a no-op otherwise). */
  readonly unprivileged?: boolean;
  /** Another `filesync` than the repository's node_modules/.bin/filesync: an installed one. */
  readonly bin?: string;
  /** Its whole environment instead of this process's (FILESYNC_PASSWORD is added either way). */
  readonly env?: NodeJS.ProcessEnv;
  /** Its working directory instead of this process's. */
  readonly cwd?: string;
}

/** The `filesync` CLI run to its end, with the test password in FILESYNC_PASSWORD. */
export function cli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const bin = options.bin ?? join(repoRootOf(), 'node_modules/.bin/filesync');
  const asNobody = options.unprivileged === true && process.getuid?.() === 0;
  const [file, argv] = asNobody
    ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', bin, ...args]]
    : [bin, [...args]];
  return new Promise((resolve) => {
    execFile(
      file,
      argv,
      // A pass over many files may print a long summary; the default 1 MiB would cut it.
      {
        env: { ...(options.env ?? process.env), FILESYNC_PASSWORD: TEST_PASSWORD },
        cwd: options.cwd,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Every object printed on stdout, one per line. */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

/** Hands a tree to the unprivileged user the CLI runs as (a no-op when not root). */
export function giveToNobody(path: string): void {
  if (process.getuid?.() !== 0) return;
  chownSync(path, NOBODY, NOBODY);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) giveToNobody(join(path, name));
}

/** Makes a tree readable again, for the checks and for cleanup. */
export function makeReadable(path: string): void {
  if (!existsSync(path) || lstatSync(path).isSymbolicLink()) return;
  if (!lstatSync(path).isDirectory()) return chmodSync(path, 0o644);
  chmodSync(path, 0o755);
  for (const name of readdirSync(path)) makeReadable(join(path, name));
}

export interface ScratchFolders {
  /** A new empty folder, removed by `removeAll`. */
  readonly dir: (label: string) => string;
  /** Removes every folder made so far, even those a test left unreadable. */
  readonly removeAll: () => void;
}

/** The temporary folders of one test file. */
export function scratchFolders(): ScratchFolders {
  const made: string[] = [];
  return {
    dir: (label) => {
      const path = tempDir(label);
      made.push(path);
      return path;
    },
    removeAll: () => {
      for (const path of made) {
        makeReadable(path);
        rmSync(path, { recursive: true, force: true });
      }
    },
  };
}

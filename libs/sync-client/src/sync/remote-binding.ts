import { LIMITS } from '@filesync/resources';
import { InvalidPathError, canonicalPath, isAtOrBelow } from '@filesync/sync-core';
import type { ChangeOutcome, DiffAction, FileChange, ManifestEntry, ServerEntry } from './model';
import type {
  CommitOptions,
  CommitOutcome,
  DiffOptions,
  DiffOutcome,
  DiffProgress,
  LocatedBlocks,
  PackRecord,
  SyncRemote,
} from './remote';

/**
 * A synced folder is bound to a remote path of its namespace: '' for the namespace root, else a
 * canonical path such as `Photos` (shown as `/Photos`). The folder's files are the namespace's
 * files below that path: `IMG_1.jpg` in the folder is `Photos/IMG_1.jpg` on the server. This
 * module is the one place that maps folder paths to namespace paths and back: BoundRemote for
 * the engine (diffs and commits), remotePathOf for commands given a local path.
 */

/** A remote path a folder cannot be bound to; nothing was changed. */
export class RemotePathError extends Error {
  override name = 'RemotePathError';
}

/** The server ignored the folder's remote root: its answer covers the whole namespace. */
export class RemoteRootUnsupportedError extends Error {
  override name = 'RemoteRootUnsupportedError';
  constructor(remoteRoot: string) {
    super(
      `the server does not know folders bound to a remote path (it ignored ${displayRemotePath(remoteRoot)}), ` +
        'so its answer covered your whole filesync folder; nothing was changed, here or on the server. ' +
        'Try again once the server is updated.',
    );
  }
}

/**
 * The remote path a person typed (`/Photos`, `Photos/`, `/`) as the state database keeps it:
 * '' for the root, else canonical (NFC, no leading or trailing slash). The path rules are those
 * of every namespace path (canonicalPath); a file below it must still fit LIMITS.maxPathBytes.
 * Throws RemotePathError.
 */
/**
 * The path rule a path of the filesync folder, as a user writes it (`docs/a.txt`, `/docs/a.txt`),
 * breaks; undefined when it breaks none.
 */
export function namespacePathProblem(input: string): string | undefined {
  const stripped = input.trim().replace(/^\/+/, '').replace(/\/+$/, '');
  if (stripped === '') return undefined;
  try {
    canonicalPath(stripped);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidPathError) return error.message;
    throw error;
  }
}

export function parseRemotePath(input: string): string {
  const trimmed = input.trim();
  const stripped = trimmed.replace(/^\/+/, '').replace(/\/+$/, '');
  if (stripped === '') return '';
  let path: string;
  try {
    path = canonicalPath(stripped);
  } catch (error) {
    if (!(error instanceof InvalidPathError)) throw error;
    throw new RemotePathError(`--remote ${JSON.stringify(input)} is not a valid path: ${error.message}`);
  }
  if (pathRoom(path) < 1) {
    throw new RemotePathError(
      `--remote ${JSON.stringify(input)} leaves no room for file names below it (paths are at most ` +
        `${LIMITS.maxPathBytes} bytes in all)`,
    );
  }
  return path;
}

/** How people see a remote path: `/` for the root, `/Photos`. */
export function displayRemotePath(remotePath: string): string {
  return `/${remotePath}`;
}

/** The namespace path of a folder path ('' is the folder itself). */
export function remotePathOf(remoteRoot: string, localPath: string): string {
  if (remoteRoot === '') return localPath;
  return localPath === '' ? remoteRoot : `${remoteRoot}/${localPath}`;
}

/** The folder path of a namespace path; undefined when it does not lie strictly below the root. */
export function localPathOf(remoteRoot: string, remotePath: string): string | undefined {
  if (remoteRoot === '') return remotePath;
  return remotePath.startsWith(`${remoteRoot}/`) ? remotePath.slice(remoteRoot.length + 1) : undefined;
}

/** Most UTF-8 bytes of a folder path bound to `remoteRoot`: its namespace path takes the rest. */
export function pathRoom(remoteRoot: string): number {
  return remoteRoot === '' ? LIMITS.maxPathBytes : LIMITS.maxPathBytes - Buffer.byteLength(remoteRoot) - 1;
}

/**
 * Two remote paths whose files would overlap: the same path, or one inside the other (the root
 * holds everything). `Photos` and `Photos2` do not overlap.
 */
export function remotePathsOverlap(a: string, b: string): boolean {
  return isAtOrBelow(a, b) || isAtOrBelow(b, a);
}

/**
 * The server side of a folder bound to `remoteRoot`, as the engine sees it: folder paths in,
 * folder paths out. Diffs carry the root (the server lists and answers only below it, and says
 * so: an answer that does not echo it is refused before anything is applied); manifest and
 * commit paths gain the root, action and result paths lose it. Block calls have no paths.
 */
export class BoundRemote implements SyncRemote {
  constructor(
    private readonly inner: SyncRemote,
    readonly remoteRoot: string,
  ) {}

  async diff(
    namespaceId: string,
    manifest: Iterable<ManifestEntry>,
    options: DiffOptions = {},
  ): Promise<DiffOutcome> {
    const root = this.remoteRoot;
    if (root === '') return this.inner.diff(namespaceId, manifest, options);
    const { resumeAfter, onProgress } = options;
    const outcome = await this.inner.diff(
      namespaceId,
      mapIterable(manifest, (entry) => this.toRemote(entry)),
      {
        ...options,
        remoteRoot: root,
        ...(resumeAfter ? { resumeAfter: remotePathOf(root, resumeAfter) } : {}),
        ...(onProgress
          ? {
              onProgress: (progress: DiffProgress) => {
                const throughPath = localPathOf(root, progress.throughPath);
                // The server lists only below the root: a progress elsewhere is no resume point.
                if (throughPath === undefined) return;
                onProgress({ ...progress, throughPath, actions: this.actionsToLocal(progress.actions) });
              },
            }
          : {}),
      },
    );
    if (outcome.remoteRoot !== root) throw new RemoteRootUnsupportedError(root);
    const actions = this.actionsToLocal(outcome.actions);
    const unrecognized = outcome.unrecognized?.flatMap((action) => {
      const path = localPathOf(root, action.path);
      return path === undefined ? [] : [{ ...action, path }];
    });
    const resumed = outcome.resumeAfter ? { resumeAfter: localPathOf(root, outcome.resumeAfter) ?? '' } : {};
    return { ...outcome, actions, unrecognized, ...resumed };
  }

  /** Only what lies below the root (a server that answers anything else is wrong: dropped). */
  private actionsToLocal(actions: readonly DiffAction[]): DiffAction[] {
    return actions.flatMap((action) => {
      const path = localPathOf(this.remoteRoot, action.path);
      return path === undefined
        ? []
        : [{ ...action, path, server: action.server && this.entryToLocal(action.server) }];
    });
  }

  async commitFiles(
    namespaceId: string,
    changes: readonly FileChange[],
    options?: CommitOptions,
  ): Promise<CommitOutcome> {
    const root = this.remoteRoot;
    if (root === '') return this.inner.commitFiles(namespaceId, changes, options);
    const outcome = await this.inner.commitFiles(
      namespaceId,
      changes.map(({ moveFrom, ...change }) => ({
        ...this.toRemote(change),
        moveFrom: moveFrom && { ...moveFrom, path: remotePathOf(root, moveFrom.path) },
      })),
      options,
    );
    return { ...outcome, results: outcome.results.map((result) => this.resultToLocal(result)) };
  }

  findMissingBlocks(namespaceId: string, hashes: readonly string[]): Promise<string[]> {
    return this.inner.findMissingBlocks(namespaceId, hashes);
  }

  locateBlocks(namespaceId: string, hashes: readonly string[]): Promise<LocatedBlocks> {
    return this.inner.locateBlocks(namespaceId, hashes);
  }

  registerPacks(namespaceId: string, packs: readonly PackRecord[]): Promise<void> {
    return this.inner.registerPacks(namespaceId, packs);
  }

  private toRemote<T extends { path: string }>(item: T): T {
    return { ...item, path: remotePathOf(this.remoteRoot, item.path) };
  }

  /**
   * A server path outside the root becomes a path no action names ('/' and the namespace path),
   * so the engine refuses it for that path alone rather than writing it anywhere.
   */
  private toLocal(remotePath: string): string {
    return localPathOf(this.remoteRoot, remotePath) ?? `/${remotePath}`;
  }

  /**
   * A move's other end outside the root is no move for this folder ('' : a plain download or
   * deletion here), since the folder never held the file or no longer will.
   */
  private entryToLocal(entry: ServerEntry): ServerEntry {
    const root = this.remoteRoot;
    return {
      ...entry,
      path: this.toLocal(entry.path),
      movedFrom: entry.movedFrom && (localPathOf(root, entry.movedFrom) ?? ''),
      movedTo: entry.movedTo && (localPathOf(root, entry.movedTo) ?? ''),
    };
  }

  private resultToLocal(result: ChangeOutcome): ChangeOutcome {
    const path = this.toLocal(result.path);
    switch (result.kind) {
      case 'committed':
        return { ...result, path, entry: this.entryToLocal(result.entry) };
      case 'conflict':
        return { ...result, path, current: this.entryToLocal(result.current) };
      case 'missing-blocks':
        return { ...result, path };
      case 'rejected': {
        const clashing = localPathOf(this.remoteRoot, result.clashingPath);
        // A file at the root or above it: the folder's own place on the server is taken. Not a
        // clash the engine can settle by moving local files aside.
        if (clashing === undefined && result.clashingPath !== '') {
          return {
            ...result,
            path,
            reason: 'other',
            clashingPath: '',
            message:
              `${displayRemotePath(result.clashingPath)} is a file on the server, where this ` +
              `folder's remote path ${displayRemotePath(this.remoteRoot)} needs a folder`,
          };
        }
        return { ...result, path, clashingPath: clashing ?? '' };
      }
    }
  }
}

function* mapIterable<T, U>(source: Iterable<T>, map: (item: T) => U): Iterable<U> {
  for (const item of source) yield map(item);
}

import { LIMITS } from '@filesync/resources';
import { failedPrecondition, invalidArgument } from '@filesync/server-kit';
import { InvalidPathError, canonicalPath } from '@filesync/sync-core';
import type { ServerFile } from './diff';
import type { CallBudget, ServerFiles } from './ports';

/**
 * A folder bound to a remote path of its namespace (DiffStart.remote_root): the diff sees only
 * the paths strictly below it. '' is the namespace root, where every path is below.
 */

/** DiffStart.remote_root as sent: '' or a canonical path; INVALID_ARGUMENT otherwise. */
export function parseRemoteRoot(raw: string): string {
  if (raw === '') return '';
  try {
    const root = canonicalPath(raw);
    if (root !== raw) throw new InvalidPathError('it is not in canonical (NFC) form');
    return root;
  } catch (error) {
    if (!(error instanceof InvalidPathError)) throw error;
    throw invalidArgument(
      `remote_root ${JSON.stringify(raw.slice(0, 200))} is not a canonical namespace path ('' for the root): ${error.message}`,
    );
  }
}

/** True when `path` lies strictly below `root` ('' holds every path). */
export function isBelowRoot(path: string, root: string): boolean {
  return root === '' || path.startsWith(`${root}/`);
}

/**
 * FAILED_PRECONDITION when the remote root, or a folder above it, is a live file: a folder cannot
 * be bound to a file (a root missing or deleted is fine: the first upload below it makes it a
 * folder). One current-entries call for the root and its ancestors; none for the namespace root.
 */
export async function assertRootIsNoFile<S extends ServerFile>(
  files: ServerFiles<S>,
  namespaceId: string,
  root: string,
  budget: CallBudget,
): Promise<void> {
  if (root === '') return;
  const segments = root.split('/');
  // The shallowest first, in one call (a root deeper than one call covers is checked by the
  // commits' tree rule instead, path by path).
  const paths = segments
    .slice(0, LIMITS.maxPathsPerGetFiles)
    .map((_, index) => segments.slice(0, index + 1).join('/'));
  const { entries } = await files.currentEntries(namespaceId, paths, budget);
  const file = entries.find((entry) => paths.includes(entry.path) && !entry.deleted);
  if (file) {
    throw failedPrecondition(
      file.path === root
        ? `the remote path /${root} is a file, not a folder: bind the folder to another remote path`
        : `/${file.path} is a file, not a folder, so the remote path /${root} cannot hold files: ` +
            'bind the folder to another remote path',
    );
  }
}

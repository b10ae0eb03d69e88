import { mkdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { FolderState, StateDb } from '../state/state-db';

/**
 * The folder to sync does not exist. Nothing was changed: an empty folder in its place would
 * look like every file was deleted, and the pass would delete them everywhere.
 */
export class SyncFolderMissingError extends Error {
  override name = 'SyncFolderMissingError';
  constructor(
    readonly dir: string,
    /** The folder as the state database knows it, when it was synced before. */
    readonly syncedBefore: FolderState | undefined,
  ) {
    super(
      syncedBefore
        ? `${dir} is missing, but it was synced before (${syncedBefore.files} files, last sync ` +
            `${syncedBefore.lastSyncAtMs ? new Date(syncedBefore.lastSyncAtMs).toISOString() : 'never finished'}). ` +
            'Nothing was changed, here or on the server. If it was moved, sync it where it is now; if it is ' +
            'on a drive that is not mounted, mount it and sync again. To start over with a new, empty ' +
            'folder at this place and download everything into it (nothing is deleted), run again with --create.'
        : `${dir} does not exist; nothing was changed. Check the path, or run again with --create to ` +
            'create it and download your files into it.',
    );
  }
}

/**
 * The real path of the folder a pass syncs. A missing folder stops the pass unless `create` asks
 * for a new one. A folder created where one was synced before starts afresh (its old state is
 * forgotten), so the pass downloads everything into it instead of deleting everything.
 */
export async function openSyncRoot(
  dir: string,
  state: StateDb,
  options: { create?: boolean } = {},
): Promise<string> {
  const absolute = resolve(dir);
  let root = await realpathIfExists(absolute);
  if (root === undefined) {
    // The state knows folders by their real path; the folder is gone but its parent may resolve.
    const names = new Set([absolute]);
    const parent = await realpathIfExists(dirname(absolute));
    if (parent !== undefined) names.add(join(parent, basename(absolute)));
    if (!options.create) {
      throw new SyncFolderMissingError(
        dir,
        state.folders().find((folder) => names.has(folder.root)),
      );
    }
    await mkdir(absolute, { recursive: true });
    root = await realpath(absolute);
    for (const name of [...names, root]) state.forgetFolder(name);
  }
  if (!(await stat(root)).isDirectory()) throw new Error(`${dir} is not a folder`);
  return root;
}

async function realpathIfExists(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

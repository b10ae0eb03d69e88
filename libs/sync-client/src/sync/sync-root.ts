import { constants } from 'node:fs';
import { access, mkdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { isAlive, isAtOrBelow } from '@filesync/sync-core';
import type { FolderRecord, FolderState, StateDb } from '../state/state-db';
import { displayRemotePath, remotePathsOverlap } from './remote-binding';
import { plural } from '../plural';

/**
 * The folder to sync does not exist (or a file took its place). Nothing was changed: an empty
 * folder in its place would look like every file was deleted, and the pass would delete them
 * everywhere.
 */
export class SyncFolderMissingError extends Error {
  override name = 'SyncFolderMissingError';
  constructor(
    readonly dir: string,
    /** The folder as the state database knows it, when it was synced before. */
    readonly syncedBefore: FolderState | undefined,
    /** Something other than a folder (a file) is at `dir`. */
    readonly notAFolder = false,
    /**
     * Why a folder made at `dir` (`--create`) would be refused its binding anyway: said instead
     * of advice to --create that would only lead there.
     */
    readonly bindingRefused?: string,
  ) {
    const what = notAFolder ? `${dir} is not a folder (a file is in its place)` : `${dir} is missing`;
    super(
      syncedBefore
        ? `${what}, but it was synced before (${plural(syncedBefore.files, 'file')}, last sync ` +
            `${syncedBefore.lastSyncAtMs ? new Date(syncedBefore.lastSyncAtMs).toISOString() : 'never finished'}). ` +
            'Nothing was changed, here or on the server. If the folder was moved, run ' +
            `\`filesync sync NEW_PLACE --moved-from ${dir}\` so its sync state moves with it (syncing ` +
            'the new place without --moved-from starts it over and makes conflicted copies of your ' +
            'edits); if it is on a drive that is not mounted, mount it and sync again. To stop syncing ' +
            `it, run \`filesync unlink ${dir}\`` +
            (notAFolder
              ? '.'
              : bindingRefused
                ? `. A new folder at this place could not be synced as asked: ${bindingRefused}`
                : '; to start over with a new, empty folder at this place and download everything into ' +
                  'it (nothing is deleted), run again with --create.')
        : notAFolder
          ? `${what}; nothing was changed. Give the path of a folder.`
          : bindingRefused
            ? `${dir} does not exist; nothing was changed. Check the path. A new folder there could not ` +
              `be synced as asked either: ${bindingRefused}`
            : `${dir} does not exist; nothing was changed. Check the path, or run again with --create to ` +
              'create it and download your files into it.',
    );
  }
}

/** The folder to sync exists but cannot be read: the pass cannot tell what is in it. */
export class SyncFolderUnreadableError extends Error {
  override name = 'SyncFolderUnreadableError';
  constructor(
    readonly dir: string,
    cause: NodeJS.ErrnoException,
  ) {
    super(
      `the synced folder ${dir} itself cannot be read (${cause.code ?? cause.message}); nothing was ` +
        'changed, here or on the server. Check that this user may list and enter it and every ' +
        `folder above it (\`ls -ld ${dir}\`: read and execute permission, owner), and that the drive ` +
        'it is on is mounted and healthy.',
      { cause },
    );
  }
}

/** A re-binding or forgetting of a synced folder that cannot be done as asked; nothing changed. */
export class SyncRootChoiceError extends Error {
  override name = 'SyncRootChoiceError';
}

/**
 * A binding the command line asked for that this device refuses (a usage error): a bound folder
 * asked to bind elsewhere, or two folders whose remote paths overlap. Nothing was changed.
 */
export class FolderBindingError extends SyncRootChoiceError {
  override name = 'FolderBindingError';
}

/** The remote path a pass asks a folder to sync with (see bindSyncRoot). */
export interface Binding {
  readonly namespaceId: string;
  /** `--remote`, parsed; undefined: as bound, or the namespace root for a new folder. */
  readonly remotePath: string | undefined;
}

/**
 * The real path of the folder a pass syncs. A missing folder stops the pass unless `create` asks
 * for a new one. A folder created where one was synced before starts afresh (its old state is
 * forgotten), so the pass downloads everything into it instead of deleting everything.
 * `binding`: for a missing folder, checked as bindSyncRoot would: without `create` the refusal is
 * told with the missing folder, with `create` it stops the pass before a folder is made (an
 * existing folder's binding is checked by bindSyncRoot, before anything else).
 */
export async function openSyncRoot(
  dir: string,
  state: StateDb,
  options: { create?: boolean; binding?: Binding } = {},
): Promise<string> {
  const absolute = resolve(dir);
  let root = await realpathIfExists(dir, absolute);
  if (root === undefined) {
    const names = await knownNames(dir, absolute);
    const known = knownFolder(state, names);
    const refusal = options.binding
      ? bindingRefusal(() => checkBinding(known?.root ?? absolute, known, state, options.binding!))
      : undefined;
    // A path that does not exist is what the user hears of first (a typo is likelier than a wish
    // to bind), with the refusal in place of advice to --create that would only lead to it.
    if (!options.create) throw new SyncFolderMissingError(dir, known, false, refusal?.message);
    // Asked to create it: refused before a new folder is made for nothing.
    if (refusal) throw refusal;
    await mkdir(absolute, { recursive: true });
    root = await realpath(absolute);
    const before = knownFolder(state, [...names, root]);
    for (const name of [...names, root]) state.forgetFolder(name);
    // It starts afresh, still bound where it was: an empty folder that now mirrored the whole
    // namespace instead would be a surprise of gigabytes.
    if (before) state.bindFolder(root, before.namespaceId, before.remotePath);
  }
  // A file where the synced folder was is the folder gone, like a missing one; never a wipe.
  if (!(await stat(root)).isDirectory()) {
    throw new SyncFolderMissingError(dir, knownFolder(state, [root, absolute]), true);
  }
  try {
    await access(root, constants.R_OK | constants.X_OK);
  } catch (error) {
    throw new SyncFolderUnreadableError(dir, error as NodeJS.ErrnoException);
  }
  assertNotNested(root, state);
  return root;
}

/**
 * A synced folder inside another would sync its files twice, as files of both, and one bound to
 * the other's remote path would copy them into themselves on every pass, one level deeper each time.
 */
function assertNotNested(root: string, state: StateDb): void {
  const inside = (path: string, folder: string) =>
    path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
  for (const { root: other } of state.folderRecords()) {
    if (other === root) continue;
    if (inside(root, other) || inside(other, root)) {
      const [outer, inner] = inside(root, other) ? [other, root] : [root, other];
      throw new SyncRootChoiceError(
        `${inner} is inside ${outer}, and this device syncs ${other === outer ? outer : inner} already: ` +
          'a synced folder inside another would copy your files into themselves. Sync ' +
          `${other} instead, or run \`filesync unlink ${other}\` first; nothing was changed`,
      );
    }
  }
}

/**
 * `filesync sync NEW --moved-from OLD`: the state of OLD becomes NEW's, so a synced folder moved
 * on disk goes on syncing only its real changes. Only when OLD is gone (a move, not a copy: two
 * folders sharing one history would take each other's differences for deletions), NEW is a folder
 * and has no state of its own.
 */
export async function moveSyncRoot(from: string, to: string, state: StateDb): Promise<void> {
  const oldAbsolute = resolve(from);
  if ((await realpathIfExists(from, oldAbsolute)) !== undefined) {
    throw new SyncRootChoiceError(
      `${from} still exists: --moved-from is for a synced folder that was moved away; nothing was changed`,
    );
  }
  const known = knownFolder(state, await knownNames(from, oldAbsolute));
  if (!known) {
    throw new SyncRootChoiceError(`${from} was never synced on this device; nothing was changed`);
  }
  const newRoot = await realpathIfExists(to, resolve(to));
  if (newRoot === undefined || !(await stat(newRoot)).isDirectory()) {
    throw new SyncRootChoiceError(`${to} is not a folder: move ${from} there first; nothing was changed`);
  }
  if (state.folderRecords().some((folder) => folder.root === newRoot) || state.files(newRoot).size > 0) {
    throw new SyncRootChoiceError(
      `${to} has a sync state of its own; nothing was changed (\`filesync unlink ${to}\` first if it ` +
        'should take over the history of the moved folder)',
    );
  }
  state.moveFolder(known.root, newRoot);
}

/**
 * Binds the folder at `root` (a real path from openSyncRoot) to `remotePath` of the namespace, or
 * checks the binding it has; returns the remote path the pass syncs it with. `remotePath`
 * undefined: as bound, or the namespace root ('') for a folder bound for the first time.
 * `record` false (a dry run): the same checks and answer, but a new binding is not stored.
 *
 * Refused with FolderBindingError, nothing changed:
 * - a bound folder asked for another remote path: rebinding in place would take every file of
 *   the old place for deleted on one side and upload or delete them all (unlink first);
 * - a new binding whose remote path is, holds or lies inside the remote path of another folder of
 *   this device: the same server files would sync into two folders, and a deletion in one would
 *   delete in the other. Folders bound before bindings existed (all to the root) keep syncing.
 */
export function bindSyncRoot(root: string, state: StateDb, binding: Binding & { record?: boolean }): string {
  const bound = state.folderRecord(root);
  const remotePath = checkBinding(root, bound, state, binding);
  if (!bound && binding.record !== false) state.bindFolder(root, binding.namespaceId, remotePath);
  return remotePath;
}

/** The FolderBindingError `check` throws, if it does. */
function bindingRefusal(check: () => unknown): FolderBindingError | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof FolderBindingError) return error;
    throw error;
  }
}

/** The remote path `root` (bound as `bound`) syncs with, or FolderBindingError: see bindSyncRoot. */
function checkBinding(
  root: string,
  bound: FolderRecord | undefined,
  state: StateDb,
  { namespaceId, remotePath }: Binding,
): string {
  if (bound) {
    if (remotePath !== undefined && remotePath !== bound.remotePath) {
      throw new FolderBindingError(
        `${root} is synced with ${displayRemotePath(bound.remotePath)}, not ${displayRemotePath(remotePath)}; ` +
          'nothing was changed. A folder is not moved to another remote path in place (every file would ' +
          `look deleted on one side): run \`filesync unlink ${root}\` first, then sync it with --remote ` +
          `${displayRemotePath(remotePath)} (a first sync: it deletes nothing and keeps both sides' files)`,
      );
    }
    return bound.remotePath;
  }
  const wanted = remotePath ?? '';
  const other = state
    .folderRecords()
    .find((folder) => folder.namespaceId === namespaceId && remotePathsOverlap(folder.remotePath, wanted));
  if (other) {
    const how =
      other.remotePath === wanted
        ? `is bound to ${displayRemotePath(wanted)} already`
        : `is bound to ${displayRemotePath(other.remotePath)}, which ${
            isAtOrBelow(wanted, other.remotePath) ? 'holds' : 'lies inside'
          } ${displayRemotePath(wanted)}`;
    throw new FolderBindingError(
      `${other.root} ${how}: two folders syncing the same server files would each delete what is ` +
        `deleted in the other; nothing was changed. Choose another remote path with --remote, or run ` +
        `\`filesync unlink ${other.root}\` first`,
    );
  }
  return wanted;
}

/**
 * `filesync unlink DIR` (also `forget`): this device stops knowing DIR as synced (status no longer
 * lists it) and forgets its binding to a remote path. The files stay where they are, here and on
 * the server; syncing DIR again is a first sync, which downloads and uploads but deletes nothing.
 */
export async function forgetSyncRoot(dir: string, state: StateDb): Promise<FolderState> {
  const absolute = resolve(dir);
  const names = await knownNames(dir, absolute);
  const root = await realpathIfExists(dir, absolute);
  if (root !== undefined) names.push(root);
  const known = knownFolder(state, names);
  if (!known)
    throw new SyncRootChoiceError(`${dir} is not a synced folder on this device; nothing was changed`);
  // A watch between passes holds no lock: unlinked under it, its next pass would bind the
  // folder afresh (to the namespace root by default) and mirror the wrong server files.
  if (known.watcherPid !== 0 && known.watcherPid !== process.pid && isAlive(known.watcherPid)) {
    throw new SyncRootChoiceError(
      `${known.root} is kept in sync by \`filesync sync --watch\` (pid ${known.watcherPid}): stop that ` +
        'watch first (Ctrl-C), then unlink; nothing was changed',
    );
  }
  state.forgetFolder(known.root);
  return known;
}

/** The names the state may know a missing folder by: as given, and under its parent's real path. */
async function knownNames(dir: string, absolute: string): Promise<string[]> {
  const names = [absolute];
  const parent = await realpathIfExists(dir, dirname(absolute));
  if (parent !== undefined) names.push(join(parent, basename(absolute)));
  return names;
}

function knownFolder(state: StateDb, names: readonly string[]): FolderState | undefined {
  return state.folders().find((folder) => names.includes(folder.root));
}

async function realpathIfExists(dir: string, path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a file stands where a folder above it was; the folder is gone all the same.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new SyncFolderUnreadableError(dir, error as NodeJS.ErrnoException);
    }
    throw error;
  }
}

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDb } from '../state/state-db';
import {
  bindSyncRoot,
  FolderBindingError,
  forgetSyncRoot,
  moveSyncRoot,
  openSyncRoot,
  SyncFolderMissingError,
  SyncRootChoiceError,
} from './sync-root';

describe('kind 1: a missing synced folder is never taken for an empty one', () => {
  let parent: string;
  let state: StateDb;
  beforeEach(async () => {
    parent = await realpath(await mkdtemp(join(tmpdir(), 'sync-root-')));
    state = StateDb.open(':memory:');
  });
  afterEach(async () => {
    state.close();
    await rm(parent, { recursive: true, force: true });
  });

  function syncedBefore(root: string): void {
    state.bindFolder(root, 'ns');
    state.markSynced(root, 9, 1_700_000_000_000, { full: true, rulesHash: '' });
    state.put(root, {
      path: 'a.txt',
      baseVersion: 3,
      baseContentHash: 'h',
      size: 1,
      mtimeMs: 1,
      contentHash: 'h',
      blocks: [],
    });
  }

  it('refuses a folder inside, or around, a folder this device already syncs', async () => {
    const outer = join(parent, 'A');
    const inner = join(outer, 'docs');
    await mkdir(inner, { recursive: true });
    await mkdir(join(parent, 'A2'));
    syncedBefore(outer);
    await expect(openSyncRoot(inner, state)).rejects.toThrow(SyncRootChoiceError);
    await expect(openSyncRoot(inner, state)).rejects.toThrow(/inside .*copy your files into themselves/);
    // A sibling whose name merely starts the same is no nesting; the synced folder itself is fine.
    await expect(openSyncRoot(join(parent, 'A2'), state)).resolves.toBe(join(parent, 'A2'));
    await expect(openSyncRoot(outer, state)).resolves.toBe(outer);
    state.forgetFolder(outer);
    syncedBefore(inner);
    await expect(openSyncRoot(outer, state)).rejects.toThrow(SyncRootChoiceError);
  });

  it('stops with what the state knows, creating nothing', async () => {
    const folder = join(parent, 'Documents');
    syncedBefore(folder);
    const error = await openSyncRoot(folder, state).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncFolderMissingError);
    expect(error).toMatchObject({ syncedBefore: { root: folder, files: 1, cursor: 9 } });
    expect((error as Error).message).toMatch(/synced before \(1 file, .*--create/s);
    expect(await readdir(parent)).toEqual([]);
    expect(state.get(folder, 'a.txt')).toBeDefined();
  });

  it('says so for a folder never synced, too', async () => {
    await expect(openSyncRoot(join(parent, 'new'), state)).rejects.toMatchObject({
      name: 'SyncFolderMissingError',
      syncedBefore: undefined,
      message: expect.stringContaining('--create'),
    });
  });

  it('with create, makes the folder and forgets its old state, so the pass downloads instead of deleting', async () => {
    const folder = join(parent, 'Documents');
    syncedBefore(folder);
    expect(await openSyncRoot(folder, state, { create: true })).toBe(folder);
    expect(await readdir(parent)).toEqual(['Documents']);
    expect(state.files(folder).size).toBe(0);
    // Afresh, but still bound where it was.
    expect(state.folders()).toEqual([
      expect.objectContaining({ root: folder, namespaceId: 'ns', remotePath: '', cursor: 0, files: 0 }),
    ]);
    // An existing folder is used as it is, its state untouched.
    syncedBefore(folder);
    expect(await openSyncRoot(folder, state, { create: true })).toBe(folder);
    expect(state.files(folder).size).toBe(1);
  });

  it('a file in place of a synced folder is the folder gone too, with the same advice', async () => {
    const folder = join(parent, 'A');
    syncedBefore(folder);
    await writeFile(folder, 'x\n');
    const error = await openSyncRoot(folder, state, { create: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncFolderMissingError);
    expect(error).toMatchObject({ notAFolder: true, syncedBefore: { root: folder, files: 1 } });
    expect((error as Error).message).toMatch(
      /is not a folder.*synced before.*--moved-from.*filesync unlink/s,
    );
    expect(state.get(folder, 'a.txt')).toBeDefined();
  });

  it('the missing-folder message names the re-binding that carries the state over', async () => {
    const folder = join(parent, 'A');
    syncedBefore(folder);
    await expect(openSyncRoot(folder, state)).rejects.toThrow(
      `filesync sync NEW_PLACE --moved-from ${folder}`,
    );
  });

  it('--moved-from moves the state of a folder that is gone to where it is now, and only then', async () => {
    const old = join(parent, 'A');
    const moved = join(parent, 'A2');
    syncedBefore(old);
    await mkdir(old);
    await mkdir(moved);
    // OLD still there: a copy, not a move.
    await expect(moveSyncRoot(old, moved, state)).rejects.toThrow(SyncRootChoiceError);
    await rm(moved, { recursive: true });
    await rename(old, moved);
    await expect(moveSyncRoot(join(parent, 'never'), moved, state)).rejects.toThrow(/never synced/);
    await expect(moveSyncRoot(old, join(parent, 'nowhere'), state)).rejects.toThrow(/not a folder/);
    expect(state.get(old, 'a.txt')).toBeDefined();

    await moveSyncRoot(old, moved, state);
    expect(state.get(moved, 'a.txt')).toMatchObject({ baseVersion: 3 });
    expect(state.files(old).size).toBe(0);
    expect(state.folders()).toMatchObject([{ root: moved, cursor: 9, files: 1 }]);
    // Another folder with a history of its own is not overwritten.
    syncedBefore(old);
    await expect(moveSyncRoot(old, moved, state)).rejects.toThrow(/sync state of its own/);
  });

  it('forget drops a folder from the state (gone or not), and says so for an unknown one', async () => {
    const folder = join(parent, 'A');
    syncedBefore(folder);
    expect(await forgetSyncRoot(folder, state)).toMatchObject({ root: folder, files: 1 });
    expect(state.folders()).toEqual([]);
    expect(state.files(folder).size).toBe(0);
    await expect(forgetSyncRoot(folder, state)).rejects.toThrow(SyncRootChoiceError);
  });

  it('unlink is refused while a --watch of another process keeps the folder in sync', async () => {
    const folder = join(parent, 'W');
    syncedBefore(folder);
    const watcher = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      state.setWatcher(folder, watcher.pid!);
      await expect(forgetSyncRoot(folder, state)).rejects.toThrow(
        /--watch` \(pid \d+\): stop that watch first/,
      );
      expect(state.folders()).toMatchObject([{ root: folder }]);
    } finally {
      watcher.kill();
      await new Promise((resolve) => watcher.once('exit', resolve));
    }
    // A watcher that is gone (it crashed) holds nothing.
    await expect(forgetSyncRoot(folder, state)).resolves.toMatchObject({ root: folder });
  });
});

describe('folder bindings: one remote path per folder, no two folders over the same files', () => {
  let parent: string;
  let state: StateDb;
  beforeEach(async () => {
    parent = await realpath(await mkdtemp(join(tmpdir(), 'sync-bind-')));
    state = StateDb.open(':memory:');
  });
  afterEach(async () => {
    state.close();
    await rm(parent, { recursive: true, force: true });
  });

  const bind = (root: string, remotePath?: string) =>
    bindSyncRoot(join(parent, root), state, { namespaceId: 'ns', remotePath });

  it('binds a new folder to the root by default, or where asked, and keeps a bound folder where it is', () => {
    expect(bind('docs')).toBe('');
    expect(bind('docs')).toBe('');
    expect(state.folder(join(parent, 'docs'))?.remotePath).toBe('');
    // The root holds every other remote path: a second folder needs the first one unlinked.
    state.forgetFolder(join(parent, 'docs'));
    expect(bind('photos', 'Photos')).toBe('Photos');
    // Asked again without --remote, or with the same path: as bound.
    expect(bind('photos')).toBe('Photos');
    expect(bind('photos', 'Photos')).toBe('Photos');
    expect(state.folder(join(parent, 'photos'))?.remotePath).toBe('Photos');
  });

  it('refuses to move a bound folder to another remote path in place, telling to unlink first', () => {
    bind('photos', 'Photos');
    expect(() => bind('photos', 'Other')).toThrow(FolderBindingError);
    expect(() => bind('photos', 'Other')).toThrow(/synced with \/Photos, not \/Other.*filesync unlink/s);
    expect(() => bind('photos', '')).toThrow(FolderBindingError);
    expect(state.folder(join(parent, 'photos'))?.remotePath).toBe('Photos');
  });

  it('refuses a new folder over the same, an enclosing or an enclosed remote path; siblings are fine', () => {
    bind('a', 'A');
    expect(() => bind('a-again', 'A')).toThrow(/is bound to \/A already/);
    expect(() => bind('ab', 'A/B')).toThrow(/bound to \/A, which holds \/A\/B/);
    expect(() => bind('everything', '')).toThrow(/bound to \/A, which lies inside \//);
    expect(() => bind('everything')).toThrow(FolderBindingError);
    expect(bind('a2', 'A2')).toBe('A2');
    expect(bind('b', 'B')).toBe('B');
    expect(state.folders().map((folder) => folder.remotePath)).toEqual(['A', 'A2', 'B']);
  });

  it('after unlink, the remote path is free for another folder and the folder for another path', async () => {
    bind('a', 'A');
    await mkdir(join(parent, 'a'));
    await forgetSyncRoot(join(parent, 'a'), state);
    expect(bind('other', 'A')).toBe('A');
    expect(bind('a', 'B')).toBe('B');
  });

  it('leaves folders bound before bindings existed (both to the root) syncing', () => {
    state.bindFolder(join(parent, 'one'), 'ns');
    state.bindFolder(join(parent, 'two'), 'ns');
    expect(bind('one')).toBe('');
    expect(bind('two')).toBe('');
  });

  it('says a missing folder is missing, with the overlap its binding would meet instead of advice to --create; --create is refused and creates nothing', async () => {
    bind('docs');
    const binding = { namespaceId: 'ns', remotePath: 'K' };
    const missing = await openSyncRoot(join(parent, 'new'), state, { binding }).catch(
      (caught: unknown) => caught,
    );
    expect(missing).toBeInstanceOf(SyncFolderMissingError);
    expect((missing as Error).message).toMatch(
      /^\S+\/new does not exist; nothing was changed\. Check the path\. A new folder there could not be synced as asked either: \S+\/docs is bound to \/, which holds \/K/,
    );
    expect((missing as Error).message).not.toContain('--create');
    // The reviewer's case: no --remote, on a device that syncs another folder with the root.
    const typo = await openSyncRoot(join(parent, 'nonexistent'), state, {
      binding: { namespaceId: 'ns', remotePath: undefined },
    }).catch((caught: unknown) => caught);
    expect(typo).toBeInstanceOf(SyncFolderMissingError);
    expect((typo as Error).message).toMatch(/nonexistent does not exist; .*is bound to \/ already/);
    const created = await openSyncRoot(join(parent, 'new'), state, { create: true, binding }).catch(
      (caught: unknown) => caught,
    );
    expect(created).toBeInstanceOf(FolderBindingError);
    expect((created as Error).message).toMatch(/is bound to \/, which holds \/K/);
    expect((created as Error).message).not.toContain('--create');
    expect(await readdir(parent)).toEqual([]);
    // A binding that fits leaves the missing folder to the usual advice.
    state.forgetFolder(join(parent, 'docs'));
    await expect(openSyncRoot(join(parent, 'new'), state, { binding })).rejects.toThrow(
      SyncFolderMissingError,
    );
  });

  it('a folder re-created with --create starts afresh, still bound to its remote path', async () => {
    const folder = join(parent, 'photos');
    state.bindFolder(folder, 'ns', 'Photos');
    state.markSynced(folder, 7, 1, { full: true, rulesHash: '' });
    await openSyncRoot(folder, state, { create: true });
    expect(state.folder(folder)).toMatchObject({ remotePath: 'Photos', cursor: 0, files: 0 });
  });
});

import { mkdir, mkdtemp, readdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDb } from '../state/state-db';
import {
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
    expect((error as Error).message).toMatch(/synced before \(1 files.*--create/s);
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
    expect(state.folders()).toEqual([]);
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
      /is not a folder.*synced before.*--moved-from.*filesync forget/s,
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
});

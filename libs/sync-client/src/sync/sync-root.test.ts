import { mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDb } from '../state/state-db';
import { openSyncRoot, SyncFolderMissingError } from './sync-root';

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
    state.markSynced(root, 9, 1_700_000_000_000);
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
});

import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateDb } from '../state/state-db';
import type { SyncOptions } from './engine';
import { MassDeleteError } from './summary';
import {
  act,
  closeEngineFolder,
  entry,
  markSynced,
  openEngineFolder,
  runEngine,
  ScriptedRemote,
  type MemoryBlocks,
} from './testing/engine-fakes';

// The engine's mass-delete guard (issue 6, kind 2) against moves, and what it tells the user.

const NAMES = ['a.txt', 'b.txt', 'c.txt'];

describe('kind 2: a move is not a mass deletion (client guard)', () => {
  let root: string;
  let state: StateDb;
  let blocks: MemoryBlocks;
  beforeEach(async () => ({ root, state, blocks } = await openEngineFolder('engine-mass-delete')));
  afterEach(() => closeEngineFolder({ root, state, blocks }));

  const run = (remote: ScriptedRemote, options: SyncOptions = {}) =>
    runEngine({ root, state, blocks }, remote, options);

  /** A file on disk and in the state as synced at version 1. */
  const synced = (path: string, text: string) => markSynced({ root, state, blocks }, path, text);

  async function list(dir = root, prefix = ''): Promise<string[]> {
    const paths: string[] = [];
    for (const item of await readdir(dir, { withFileTypes: true })) {
      if (item.isDirectory()) paths.push(...(await list(join(dir, item.name), `${prefix}${item.name}/`)));
      else paths.push(`${prefix}${item.name}`);
    }
    return paths.sort();
  }

  it('renaming the folder that holds every synced file commits without --force, each move in one call', async () => {
    for (const name of NAMES) await synced(`docs/${name}`, `text of ${name}`);
    await rm(join(root, 'docs'), { recursive: true });
    for (const name of NAMES) {
      await mkdir(join(root, 'archive'), { recursive: true });
      await writeFile(join(root, 'archive', name), `text of ${name}`);
    }
    const remote = new ScriptedRemote([
      ...NAMES.map((name) => act('upload', `archive/${name}`, 0)),
      ...NAMES.map((name) => act('delete-remote', `docs/${name}`, 1)),
    ]);
    const summary = await run(remote);
    // Committed as moves (issue 8, section 4): nothing uploaded, nothing deleted.
    expect(summary).toMatchObject({ moved: 3, filesUploaded: 0, deleted: 0, failed: [] });
    expect(remote.options.every((options) => options?.confirmMassDelete === false)).toBe(true);
    for (const call of remote.calls)
      for (const path of call.filter((p) => p.startsWith('docs/')))
        expect(call).toContain(path.replace('docs/', 'archive/'));
  });

  it('an emptied folder is still stopped, and --max-delete still counts real deletions', async () => {
    for (const name of NAMES) await synced(name, `text of ${name}`);
    for (const name of NAMES) await rm(join(root, name));
    await writeFile(join(root, 'new.txt'), 'something else');
    const emptied = new ScriptedRemote([
      act('upload', 'new.txt', 0),
      ...NAMES.map((name) => act('delete-remote', name, 1)),
    ]);
    await expect(run(emptied)).rejects.toThrow(MassDeleteError);
    expect(emptied.calls).toEqual([]);

    // One of them renamed, the others deleted: under --max-delete 1 the rename is free, two are not.
    await writeFile(join(root, 'renamed.txt'), 'text of a.txt');
    const mixed = new ScriptedRemote([
      act('upload', 'renamed.txt', 0),
      ...NAMES.map((name) => act('delete-remote', name, 1)),
    ]);
    const error = await run(mixed, { maxDelete: 1 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ wouldDelete: { local: ['b.txt', 'c.txt'], remote: [] } });
  });

  it('on the receiving device, a folder renamed elsewhere moves here without --force', async () => {
    for (const name of NAMES) await synced(`docs/${name}`, `text of ${name}`);
    const actions = [];
    for (const name of NAMES) {
      const content = await blocks.seed(`text of ${name}`);
      actions.push(act('download', `archive/${name}`, 0, entry(`archive/${name}`, 1, content)));
      actions.push(act('delete-local', `docs/${name}`, 1, entry(`docs/${name}`, 2)));
    }
    const summary = await run(new ScriptedRemote(actions));
    expect(summary).toMatchObject({ filesDownloaded: 3, deleted: 3, failed: [] });
    expect(await list()).toEqual(NAMES.map((name) => `archive/${name}`));
    expect(await readFile(join(root, 'archive', 'a.txt'), 'utf8')).toBe('text of a.txt');
  });

  it('deletions from another device are told apart from files this folder lost, with advice for each', async () => {
    for (const name of [...NAMES, 'lost.txt']) await synced(name, `text of ${name}`);
    await rm(join(root, 'lost.txt'));
    const remote = new ScriptedRemote([
      act('delete-remote', 'lost.txt', 1),
      ...NAMES.map((name) => act('delete-local', name, 1, entry(name, 2))),
    ]);
    const error = (await run(remote).catch((caught: unknown) => caught)) as MassDeleteError;
    expect(error).toBeInstanceOf(MassDeleteError);
    expect(error.wouldDelete).toEqual({ local: ['lost.txt'], remote: NAMES });
    expect(error.message).toContain('would delete 4 of 4 synced files');
    expect(error.message).toMatch(/1 is missing from this folder \(lost\.txt\): if the folder was moved/);
    expect(error.message).toMatch(
      /3 were deleted on the server, by another device \(a\.txt, b\.txt, c\.txt\): run again with --force to delete them here too; to keep them, run `filesync unlink` on this folder and then sync it again/,
    );
    expect(await list()).toEqual(NAMES);
  });
});

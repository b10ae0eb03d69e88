import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDb } from '../state/state-db';
import { syncFolder } from './engine';
import type { SyncRemote } from './remote';
import { contentOf, engineDeps, entry, MemoryBlocks, ScriptedRemote } from './testing/engine-fakes';
import type { ActionKind, DiffAction, ServerEntry } from './model';

function action(kind: ActionKind, path: string, baseVersion: number, server?: ServerEntry): DiffAction {
  return { path, kind, baseVersion, server };
}

describe('syncFolder', () => {
  let root: string;
  let state: StateDb;
  let blocks: MemoryBlocks;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'engine-'));
    state = StateDb.open(':memory:');
    blocks = new MemoryBlocks();
  });
  afterEach(async () => {
    state.close();
    await rm(root, { recursive: true, force: true });
  });

  const run = (remote: SyncRemote) => syncFolder(root, 'ns', engineDeps({ state, blocks, remote }));

  const seedServer = (text: string) => blocks.seed(text);

  it('uploads missing blocks, commits and records the new base', async () => {
    await writeFile(join(root, 'a.txt'), 'hello');
    const remote = new ScriptedRemote([action('upload', 'a.txt', 0)]);
    const summary = await run(remote);
    expect(summary).toMatchObject({ filesUploaded: 1, uploadedBlocks: 1, uploadedBytes: 5, conflicts: 0 });
    expect(remote.manifests[0]).toEqual([
      {
        path: 'a.txt',
        contentHash: contentOf('hello').contentHash,
        size: 5,
        baseVersion: 0,
        baseContentHash: '',
        deleted: false,
      },
    ]);
    expect(remote.commits[0]).toMatchObject({
      path: 'a.txt',
      baseVersion: 0,
      content: contentOf('hello'),
    });
    expect(state.get(root, 'a.txt')).toMatchObject({
      baseVersion: 1,
      baseContentHash: contentOf('hello').contentHash,
    });
    expect(state.folders()[0]).toMatchObject({ cursor: 7 });
  });

  it('refuses server paths that would escape the folder, and still syncs the rest', async () => {
    const content = await seedServer('payload');
    const outside = join(root, '..', 'escaped.txt');
    const failure = await run(
      new ScriptedRemote([
        action('download', '../escaped.txt', 0, entry('../escaped.txt', 1, content)),
        action('download', 'ok.txt', 0, entry('other.txt', 1, content)),
        action('download', 'fine.txt', 0, entry('fine.txt', 1, content)),
      ]),
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      failures: [
        { path: '../escaped.txt', reason: expect.stringContaining("'..'") },
        { path: 'ok.txt', reason: expect.stringContaining('does not match') },
      ],
    });
    await expect(readFile(outside)).rejects.toThrow();
    expect(await readdir(root)).toEqual(['fine.txt']);
  });

  it('records instead of making a conflicted copy when the server already holds the same bytes', async () => {
    await writeFile(join(root, 'a.txt'), 'same bytes');
    const remote = new ScriptedRemote([action('upload', 'a.txt', 2)]);
    remote.conflicts.set('a.txt', entry('a.txt', 3, contentOf('same bytes')));
    const summary = await run(remote);
    expect(summary.conflicts).toBe(0);
    expect(await readdir(root)).toEqual(['a.txt']);
    expect(state.get(root, 'a.txt')).toMatchObject({ baseVersion: 3 });
  });

  it('packs every new block into one pack, commits smallest files first, and a file changed since its scan holds back only itself', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `small/${String(i).padStart(2, '0')}.txt`);
    for (const name of names) {
      await mkdir(join(root, 'small'), { recursive: true });
      await writeFile(join(root, name), `content of ${name}`);
    }
    await writeFile(join(root, 'big.txt'), 'x'.repeat(5_000));
    await writeFile(join(root, 'broken.txt'), 'this upload fails');
    // Same size, other bytes, after the scan hashed it: its block no longer reads back as hashed.
    const remote = new ScriptedRemote(
      ['big.txt', 'broken.txt', ...names].map((path) => action('upload', path, 0)),
      () => writeFile(join(root, 'broken.txt'), 'THIS UPLOAD FAILS'),
    );
    const failure = (await run(remote).catch((error: unknown) => error)) as {
      failures: unknown[];
      summary: { filesUploaded: number; uploadedBlocks: number };
    };
    expect(failure.failures).toEqual([
      { path: 'broken.txt', reason: 'file changed since it was scanned; it syncs next time' },
    ]);
    expect(failure.summary).toMatchObject({ filesUploaded: 61, uploadedBlocks: 61 });
    expect(blocks.packs.size).toBe(1);
    expect(remote.registered.flat()).toHaveLength(1);
    expect(remote.calls.flat()).not.toContain('broken.txt');
    expect(remote.calls.flat().at(-1)).toBe('big.txt');
    expect(remote.calls.flat()[0]).toBe('small/00.txt');
  });

  it('downloads into place atomically and records the base', async () => {
    const content = await seedServer('from elsewhere');
    const summary = await run(
      new ScriptedRemote([action('download', 'dir/b.txt', 0, entry('dir/b.txt', 3, content))]),
    );
    expect(await readFile(join(root, 'dir', 'b.txt'), 'utf8')).toBe('from elsewhere');
    expect(await readdir(join(root, 'dir'))).toEqual(['b.txt']);
    expect(summary).toMatchObject({ filesDownloaded: 1, downloadedBlocks: 1, downloadedBytes: 14 });
    expect(state.get(root, 'dir/b.txt')).toMatchObject({ baseVersion: 3, contentHash: content.contentHash });
  });

  it('keeps a conflicting local edit as a conflicted copy and takes the server version', async () => {
    await writeFile(join(root, 'a.txt'), 'mine');
    const server = await seedServer('theirs');
    const remote = new ScriptedRemote([action('conflict', 'a.txt', 1, entry('a.txt', 2, server))]);
    const summary = await run(remote);
    const copy = 'a (conflicted copy laptop 2026-01-02 030405).txt';
    expect(await readFile(join(root, 'a.txt'), 'utf8')).toBe('theirs');
    expect(await readFile(join(root, copy), 'utf8')).toBe('mine');
    expect(remote.commits).toEqual([expect.objectContaining({ path: copy, baseVersion: 0 })]);
    expect(summary).toMatchObject({ conflicts: 1, filesUploaded: 1, filesDownloaded: 1 });
    expect(state.get(root, 'a.txt')).toMatchObject({ baseVersion: 2 });
    expect(state.get(root, copy)).toMatchObject({ baseVersion: 1 });
  });

  it('turns a commit conflict into a conflicted copy too', async () => {
    await writeFile(join(root, 'a.txt'), 'mine');
    const server = await seedServer('theirs');
    const remote = new ScriptedRemote([action('upload', 'a.txt', 0)]);
    remote.conflicts.set('a.txt', entry('a.txt', 1, server));
    const summary = await run(remote);
    expect(await readFile(join(root, 'a.txt'), 'utf8')).toBe('theirs');
    expect((await readdir(root)).sort()).toEqual([
      'a (conflicted copy laptop 2026-01-02 030405).txt',
      'a.txt',
    ]);
    expect(summary).toMatchObject({ conflicts: 1, filesUploaded: 1, filesDownloaded: 1 });
  });

  it('deletes locally and remotely, and records matching content', async () => {
    await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(root, 'sub', 'deeper', 'gone-remote.txt'), 'old');
    await writeFile(join(root, 'same.txt'), 'same');
    const first = await run(
      new ScriptedRemote([
        action('upload', 'sub/deeper/gone-remote.txt', 0),
        action('upload', 'deleted-here.txt', 0),
        action('record', 'same.txt', 0, entry('same.txt', 5, contentOf('same'))),
      ]),
    );
    expect(first.filesUploaded).toBe(1);
    expect(state.get(root, 'same.txt')).toMatchObject({ baseVersion: 5 });

    await writeFile(join(root, 'deleted-here.txt'), 'x');
    state.put(root, {
      path: 'deleted-here.txt',
      baseVersion: 2,
      baseContentHash: contentOf('x').contentHash,
      size: 1,
      mtimeMs: 0,
      contentHash: '',
      blocks: [],
    });
    await rm(join(root, 'deleted-here.txt'));
    const remote = new ScriptedRemote([
      action('delete-local', 'sub/deeper/gone-remote.txt', 0, entry('sub/deeper/gone-remote.txt', 2)),
      action('delete-remote', 'deleted-here.txt', 2),
    ]);
    const summary = await run(remote);
    expect(remote.manifests[0]).toContainEqual(
      expect.objectContaining({ path: 'deleted-here.txt', deleted: true, baseVersion: 2 }),
    );
    expect(remote.commits).toEqual([
      // No content: a deletion.
      expect.objectContaining({ path: 'deleted-here.txt', content: undefined, baseVersion: 2 }),
    ]);
    expect((await readdir(root)).sort()).toEqual(['same.txt']);
    expect(summary.deleted).toBe(2);
    expect(state.get(root, 'sub/deeper/gone-remote.txt')).toBeUndefined();
    expect(state.get(root, 'deleted-here.txt')).toBeUndefined();
  });
});

import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFolder } from './engine';
import type { SyncProgress } from './summary';
import {
  act,
  closeEngineFolder,
  contentOf,
  engineDeps,
  openEngineFolder,
  runEngine,
  ScriptedRemote,
  type EngineFolder,
} from './testing/engine-fakes';

// Unit tests of the engine's upload side with the fakes of its ports (MemoryBlocks for storage,
// ScriptedRemote for the server): packs, registration, commit calls and progress.
describe('syncFolder uploads in packs', () => {
  let folder: EngineFolder;
  beforeEach(async () => {
    folder = await openEngineFolder('engine-packs');
  });
  afterEach(async () => {
    await closeEngineFolder(folder);
  });

  async function write(path: string, text: string): Promise<void> {
    await mkdir(join(folder.root, 'd'), { recursive: true });
    await writeFile(join(folder.root, path), text);
  }

  it('uploads 200 small files as one pack, one registration and one CommitFiles call', async () => {
    const paths = Array.from({ length: 200 }, (_, i) => `d/${String(i).padStart(3, '0')}.txt`);
    for (const path of paths) await write(path, `file ${path}`);
    const remote = new ScriptedRemote(paths.map((path) => act('upload', path, 0)));
    const summary = await runEngine(folder, remote);
    expect(summary.filesUploaded).toBe(200);
    expect(folder.blocks.packs.size).toBe(1);
    expect(remote.registered).toHaveLength(1);
    expect(remote.calls).toEqual([paths]);
  });

  it('commits the files of a registered pack while later packs still upload, smallest first', async () => {
    await write('d/small.txt', 'small');
    await writeFile(join(folder.root, 'd/big.bin'), randomBytes(20 * 1024 * 1024));
    const remote = new ScriptedRemote(['d/big.bin', 'd/small.txt'].map((path) => act('upload', path, 0)));
    // The second pack's PUT completes only once a commit went through: without the pipeline
    // (commit after every upload) this pass would never end.
    let release!: () => void;
    const committed = new Promise<void>((resolve) => (release = resolve));
    let puts = 0;
    const putPack = folder.blocks.putPack.bind(folder.blocks);
    folder.blocks.putPack = async (ns, packId, bytes) => {
      if (puts++ > 0) await committed;
      return putPack(ns, packId, bytes);
    };
    const commitFiles = remote.commitFiles.bind(remote);
    remote.commitFiles = async (ns, changes, options) => {
      const outcome = await commitFiles(ns, changes, options);
      release();
      return outcome;
    };
    const summary = await runEngine(folder, remote);
    expect(summary.filesUploaded).toBe(2);
    // The first pack is small (FIRST_PACK_BYTES), the next ones grow: the big file takes several.
    expect(folder.blocks.packs.size).toBeGreaterThanOrEqual(2);
    expect(remote.calls).toEqual([['d/small.txt'], ['d/big.bin']]);
  }, 60_000);

  it('uploads a pass of little new content without asking what storage has; more, it asks first', async () => {
    const asked: number[] = [];
    const counting = (remote: ScriptedRemote) => {
      const findMissing = remote.findMissingBlocks.bind(remote);
      remote.findMissingBlocks = (ns, hashes) => {
        asked.push(hashes.length);
        return findMissing(ns, hashes);
      };
      return remote;
    };
    await write('d/small.txt', 'a small edit');
    const summary = await runEngine(folder, counting(new ScriptedRemote([act('upload', 'd/small.txt', 0)])));
    expect(summary.filesUploaded).toBe(1);
    expect(asked).toEqual([]);
    expect(folder.blocks.packs.size).toBe(1);

    // 70 KiB of new content: more than goes unchecked (UNCHECKED_UPLOAD_MAX_BYTES), so it asks.
    await write('d/larger.txt', 'x'.repeat(70 * 1024));
    const larger = await runEngine(folder, counting(new ScriptedRemote([act('upload', 'd/larger.txt', 0)])));
    expect(larger.filesUploaded).toBe(1);
    expect(asked).toEqual([1]);
  });

  it('uploads and commits in windows: what tracks uploads exists for one window at a time (bounded memory)', async () => {
    // 70 KiB each: every window holds more new content than goes unchecked, so each asks storage.
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      await write(`d/${name}.txt`, `file ${name}`.padEnd(70 * 1024, '.'));
    const remote = new ScriptedRemote(
      ['a', 'b', 'c', 'd', 'e'].map((name) => act('upload', `d/${name}.txt`, 0)),
    );
    const asked: number[] = [];
    const findMissing = remote.findMissingBlocks.bind(remote);
    remote.findMissingBlocks = (ns, hashes) => {
      asked.push(hashes.length);
      return findMissing(ns, hashes);
    };
    const summary = await syncFolder(
      folder.root,
      'ns',
      engineDeps({ state: folder.state, blocks: folder.blocks, remote, commitWindow: 2 }),
    );
    expect(summary.filesUploaded).toBe(5);
    expect(asked).toEqual([2, 2, 1]);
    expect(remote.calls.flat().sort()).toEqual(['d/a.txt', 'd/b.txt', 'd/c.txt', 'd/d.txt', 'd/e.txt']);
    expect(remote.calls).toHaveLength(3);
  });

  it('uploads blocks a commit reports missing again in a new pack, registers it and commits again', async () => {
    await write('d/a.txt', 'first file');
    await write('d/b.txt', 'second file');
    const remote = new ScriptedRemote(['d/a.txt', 'd/b.txt'].map((path) => act('upload', path, 0)));
    const lost = contentOf('second file').blockHashes[0]!;
    remote.missingBlocks.set('d/b.txt', [lost]);
    const summary = await runEngine(folder, remote);
    expect(summary.filesUploaded).toBe(2);
    expect(remote.calls).toEqual([['d/a.txt', 'd/b.txt'], ['d/b.txt']]);
    // (The fake's FindMissingBlocks reports every block missing, so the next round packs again.)
    expect(
      remote.registered.slice(0, 2).map((call) => call.flatMap((pack) => pack.blocks.map((b) => b.hash))),
    ).toEqual([[contentOf('first file').blockHashes[0], lost], [lost]]);
    expect(folder.state.get(folder.root, 'd/b.txt')).toMatchObject({ baseVersion: 1 });
  });

  it('fails a file whose blocks are still missing after the re-upload, and commits the rest', async () => {
    await write('d/a.txt', 'first file');
    await write('d/b.txt', 'second file');
    const remote = new ScriptedRemote(['d/a.txt', 'd/b.txt'].map((path) => act('upload', path, 0)));
    const lost = contentOf('second file').blockHashes[0]!;
    remote.missingBlocks.set('d/b.txt', [lost]);
    const commit = remote.commitFiles.bind(remote);
    remote.commitFiles = (ns, changes, options) => {
      if (remote.calls.length === 1) remote.missingBlocks.set('d/b.txt', [lost]);
      return commit(ns, changes, options);
    };
    await expect(runEngine(folder, remote)).rejects.toMatchObject({
      failures: [{ path: 'd/b.txt', reason: 'blocks still missing after upload' }],
      summary: { filesUploaded: 1 },
    });
  });

  it('counts each uploaded byte once in the progress and the summary, shared blocks included', async () => {
    const texts = Array.from({ length: 50 }, (_, i) => `content ${i % 10}`);
    for (const [i, text] of texts.entries()) await write(`d/${i}.txt`, text);
    const remote = new ScriptedRemote(texts.map((_, i) => act('upload', `d/${i}.txt`, 0)));
    const progress: SyncProgress[] = [];
    const summary = await runEngine(folder, remote, { onProgress: (p) => progress.push(p) });
    const unique = new Set(texts);
    const bytes = [...unique].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    expect(summary).toMatchObject({ filesUploaded: 50, uploadedBytes: bytes, uploadedBlocks: unique.size });
    const uploading = progress.filter((p) => p.phase === 'uploading');
    expect(uploading.at(-1)).toEqual({ phase: 'uploading', done: bytes, total: bytes, unit: 'bytes' });
    for (const [i, p] of uploading.entries()) {
      expect(p.done).toBeLessThanOrEqual(p.total);
      if (i > 0) expect(p.done).toBeGreaterThanOrEqual(uploading[i - 1]!.done);
    }
  });
});

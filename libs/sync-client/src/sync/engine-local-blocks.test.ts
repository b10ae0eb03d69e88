// Unit tests of downloads taken from local files (LocalBlocks): the engine against a scripted fake
// of the server (ScriptedRemote) and in-memory storage (MemoryBlocks), on a real temp folder.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  act,
  closeEngineFolder,
  contentOf,
  entry,
  markSynced,
  openEngineFolder,
  runEngine,
  ScriptedRemote,
  type EngineFolder,
} from './testing/engine-fakes';

const TEXT = 'the bytes of a file that moved on another device\n'.repeat(200);

describe('downloads from blocks already on this device', () => {
  let folder: EngineFolder;
  beforeEach(async () => {
    folder = await openEngineFolder('engine-local-blocks');
  });
  afterEach(() => closeEngineFolder(folder));

  it('a file renamed elsewhere is moved here, without a byte from storage', async () => {
    await markSynced(folder, 'old/name.txt', TEXT, 1);
    // Storage does not hold the blocks: a fetch would fail the path.
    const summary = await runEngine(
      folder,
      new ScriptedRemote([
        act('download', 'new/name.txt', 0, entry('new/name.txt', 1, contentOf(TEXT))),
        act('delete-local', 'old/name.txt', 0, entry('old/name.txt', 2)),
      ]),
    );
    expect(summary).toMatchObject({ filesDownloaded: 1, downloadedBytes: 0, deleted: 1, failed: [] });
    expect(summary.reusedBytes).toBe(Buffer.byteLength(TEXT));
    expect(await readFile(join(folder.root, 'new', 'name.txt'), 'utf8')).toBe(TEXT);
    // The moved-aside original is gone once the download took it, and so is the emptied folder.
    expect(await readdir(folder.root)).toEqual(['new']);
    expect(folder.state.get(folder.root, 'new/name.txt')).toMatchObject({ baseVersion: 1 });
  });

  it('a copy made elsewhere is copied here; the original stays', async () => {
    await markSynced(folder, 'a.txt', TEXT, 1);
    const summary = await runEngine(
      folder,
      new ScriptedRemote([act('download', 'copy.txt', 0, entry('copy.txt', 1, contentOf(TEXT)))]),
    );
    expect(summary).toMatchObject({ filesDownloaded: 1, downloadedBytes: 0, failed: [] });
    expect(await readFile(join(folder.root, 'copy.txt'), 'utf8')).toBe(TEXT);
    expect(await readFile(join(folder.root, 'a.txt'), 'utf8')).toBe(TEXT);
  });

  it('a local file changed since the scan is not copied: the block comes from storage', async () => {
    await markSynced(folder, 'a.txt', TEXT, 1);
    await folder.blocks.seed(TEXT);
    const remote = new ScriptedRemote(
      [act('download', 'copy.txt', 0, entry('copy.txt', 1, contentOf(TEXT)))],
      // After the scan, before the downloads: same size, other bytes.
      () => writeFile(join(folder.root, 'a.txt'), TEXT.toUpperCase()),
    );
    const summary = await runEngine(folder, remote);
    expect(summary).toMatchObject({ filesDownloaded: 1, reusedBytes: 0, failed: [] });
    expect(summary.downloadedBytes).toBe(Buffer.byteLength(TEXT));
    expect(await readFile(join(folder.root, 'copy.txt'), 'utf8')).toBe(TEXT);
  });
});

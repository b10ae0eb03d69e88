// Unit tests: the engine against a scripted fake of the server (ScriptedRemote), on a real temp
// folder. A file already here that holds the server version's bytes, cut into other blocks, is
// no conflict.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocatedBlocks } from './remote';
import { blockHash, contentHash } from '@filesync/sync-core';
import type { FileContent } from './model';
import {
  act,
  closeEngineFolder,
  entry,
  openEngineFolder,
  runEngine,
  ScriptedRemote,
  type EngineFolder,
} from './testing/engine-fakes';

const MIB = 1024 * 1024;

/** `bytes` cut at `cuts` (as another device, chunking against an older version, might have). */
function cutAt(bytes: Buffer, cuts: readonly number[]) {
  const edges = [0, ...cuts, bytes.length];
  const blocks = edges.slice(1).map((end, i) => bytes.subarray(edges[i]!, end));
  const hashes = blocks.map((block) => blockHash(block));
  const content: FileContent = { contentHash: contentHash(hashes), size: bytes.length, blockHashes: hashes };
  return { content, blocks, lengths: new Map(hashes.map((hash, i) => [hash, blocks[i]!.length])) };
}

/** A server that knows its blocks' lengths (stored as objects of their own, in MemoryBlocks). */
class SizingRemote extends ScriptedRemote {
  constructor(
    actions: ConstructorParameters<typeof ScriptedRemote>[0],
    private readonly lengths: Map<string, number>,
  ) {
    super(actions);
  }
  override async locateBlocks(_ns: string, hashes: readonly string[]): Promise<LocatedBlocks> {
    const known = hashes.filter((hash) => this.lengths.has(hash));
    return {
      locations: known.map((hash) => ({ hash, packId: '', offset: 0, length: this.lengths.get(hash)! })),
      missing: hashes.filter((hash) => !this.lengths.has(hash)),
    };
  }
}

describe('a file here with the bytes of the server version, cut otherwise', () => {
  let folder: EngineFolder;
  beforeEach(async () => {
    folder = await openEngineFolder('engine-same-bytes');
  });
  afterEach(() => closeEngineFolder(folder));

  const bytes = Buffer.alloc(3 * MIB + 5);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;

  it('is recorded as synced: no conflicted copy, nothing downloaded or uploaded', async () => {
    await writeFile(join(folder.root, 'big.bin'), bytes);
    const server = cutAt(bytes, [700_000, 2 * MIB]);
    const remote = new SizingRemote(
      [act('conflict', 'big.bin', 0, entry('big.bin', 3, server.content))],
      server.lengths,
    );
    const summary = await runEngine(folder, remote);
    expect(summary).toMatchObject({ conflicts: 0, filesDownloaded: 0, failed: [] });
    expect(remote.commits).toEqual([]);
    expect(await readdir(folder.root)).toEqual(['big.bin']);
    expect(folder.state.get(folder.root, 'big.bin')).toMatchObject({
      baseVersion: 3,
      baseContentHash: server.content.contentHash,
      contentHash: server.content.contentHash,
      blocks: [
        { offset: 0, length: 700_000 },
        { offset: 700_000, length: 2 * MIB - 700_000 },
        { offset: 2 * MIB, length: MIB + 5 },
      ].map((block, i) => ({ ...block, hash: server.content.blockHashes[i] })),
    });
  });

  it('differing in one byte, is kept as a conflicted copy beside the server version', async () => {
    const local = Buffer.from(bytes);
    local[2 * MIB + 100] = local[2 * MIB + 100]! ^ 1;
    await writeFile(join(folder.root, 'big.bin'), local);
    const server = cutAt(bytes, [700_000, 2 * MIB]);
    for (const [i, block] of server.blocks.entries())
      await folder.blocks.put('ns', server.content.blockHashes[i]!, block);
    const remote = new SizingRemote(
      [act('conflict', 'big.bin', 0, entry('big.bin', 3, server.content))],
      server.lengths,
    );
    const summary = await runEngine(folder, remote);
    expect(summary).toMatchObject({ conflicts: 1, filesDownloaded: 1, failed: [] });
    expect((await readFile(join(folder.root, 'big.bin'))).equals(bytes)).toBe(true);
    const names = await readdir(folder.root);
    const copy = names.find((name) => name.includes('conflicted copy'))!;
    expect(copy).toBeDefined();
    expect((await readFile(join(folder.root, copy))).equals(local)).toBe(true);
    expect(remote.commits.map((change) => change.path)).toEqual([summary.conflicted[0]!.copy]);
  });
});

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { blockHash, readPackTrailer } from '@filesync/sync-core';
import { syncFolder } from './engine';
import { SKIP_REASONS } from '../scan/scanner';
import type { SyncProgress } from './summary';
import {
  act,
  closeEngineFolder,
  engineDeps,
  openEngineFolder,
  ScriptedRemote,
  type EngineFolder,
} from './testing/engine-fakes';

const MiB = 1024 * 1024;

/**
 * Unit tests of the engine's upload of big files while the scan hashes them, with the fakes of
 * its ports (MemoryBlocks for storage, ScriptedRemote for the server, which here answers
 * FindMissingBlocks from what was registered, as the real server does).
 */
describe('syncFolder uploads big files while it scans them', () => {
  let folder: EngineFolder;
  let remote: ScriptedRemote;
  const order: string[] = [];
  beforeEach(async () => {
    folder = await openEngineFolder('engine-streamed');
    remote = knowingRemote(['big.bin']);
    order.length = 0;
  });
  afterEach(async () => {
    await closeEngineFolder(folder);
  });

  /** Uploads of `paths`, from a server that answers FindMissingBlocks from what was registered. */
  function knowingRemote(paths: readonly string[]): ScriptedRemote {
    const scripted = new ScriptedRemote(
      paths.map((path) => act('upload', path, 0)),
      async () => {
        order.push('diff');
      },
    );
    const registered = new Set<string>();
    const registerPacks = scripted.registerPacks.bind(scripted);
    scripted.registerPacks = async (ns, packs) => {
      await registerPacks(ns, packs);
      for (const pack of packs) for (const block of pack.blocks) registered.add(block.hash);
    };
    scripted.findMissingBlocks = async (_ns, hashes) => hashes.filter((hash) => !registered.has(hash));
    return scripted;
  }

  function run(onProgress?: (progress: SyncProgress) => void) {
    const { root, state, blocks } = folder;
    return syncFolder(root, 'ns', engineDeps({ state, blocks, remote, streamedUploadMinBytes: 4 * MiB }), {
      onProgress,
    });
  }

  it('reports the bytes sent while hashing as uploaded: the upload phase ends at the whole file', async () => {
    // Several files streamed at once, their packs stored concurrently with the scan: the upload
    // phase must count every one of their bytes, not only what was left after the diff.
    remote = knowingRemote(['a.bin', 'b.bin', 'c.bin']);
    const sizes = [12 * MiB, 9 * MiB, 6 * MiB + 5];
    for (const [index, name] of ['a.bin', 'b.bin', 'c.bin'].entries())
      await writeFile(join(folder.root, name), randomBytes(sizes[index]!));
    const uploading: SyncProgress[] = [];
    const summary = await run((progress) => {
      if (progress.phase === 'uploading') uploading.push(progress);
    });
    const total = sizes.reduce((sum, size) => sum + size, 0);
    expect(summary.uploadedBytes).toBe(total);
    expect(uploading.at(-1)).toEqual({ phase: 'uploading', done: total, total, unit: 'bytes' });
    for (const progress of uploading) expect(progress.done).toBeLessThanOrEqual(progress.total);
  }, 60_000);

  it('stores and registers a big file before the diff, reads it once and commits it', async () => {
    const data = randomBytes(40 * MiB);
    await writeFile(join(folder.root, 'big.bin'), data);
    const putPack = folder.blocks.putPack.bind(folder.blocks);
    folder.blocks.putPack = async (ns, packId, bytes) => {
      order.push('put');
      return putPack(ns, packId, bytes);
    };
    const summary = await run();
    expect(summary.filesUploaded).toBe(1);
    expect(summary.uploadedBytes).toBe(data.byteLength);
    // Every pack went up before the diff: nothing was left for the commit path to send.
    expect(order.indexOf('diff')).toBe(order.length - 1);
    expect(order.filter((step) => step === 'put').length).toBe(folder.blocks.packs.size);
    expect(folder.blocks.packs.size).toBeGreaterThanOrEqual(2);
    const committed = remote.commits[0]!.content!;
    const stored = new Map<string, Buffer>();
    for (const body of folder.blocks.packs.values())
      for (const entry of readPackTrailer(body, body.byteLength))
        stored.set(entry.hash, Buffer.from(body.subarray(entry.offset, entry.offset + entry.length)));
    // The committed block list rebuilds the file byte for byte from what storage holds.
    const rebuilt = Buffer.concat(committed.blockHashes.map((hash) => stored.get(hash)!));
    expect(rebuilt.equals(data)).toBe(true);
    for (const [hash, bytes] of stored) expect(blockHash(bytes)).toBe(hash);
  }, 60_000);

  it('does not commit a big file that changed while it was read and uploaded', async () => {
    const path = join(folder.root, 'big.bin');
    await writeFile(path, randomBytes(24 * MiB));
    const putPack = folder.blocks.putPack.bind(folder.blocks);
    let puts = 0;
    folder.blocks.putPack = async (ns, packId, bytes) => {
      // Rewritten (another size) once the first pack is on its way.
      if (puts++ === 0) await writeFile(path, randomBytes(20 * MiB));
      return putPack(ns, packId, bytes);
    };
    const summary = await run();
    expect(remote.commits).toEqual([]);
    expect(summary.filesUploaded).toBe(0);
    expect(summary.skipped).toEqual([{ path: 'big.bin', reason: SKIP_REASONS.changedWhileRead }]);
    // What did go up is exactly the bytes its hashes name (nothing commits it; the collector
    // removes it after the grace period).
    for (const body of folder.blocks.packs.values())
      for (const entry of readPackTrailer(body, body.byteLength))
        expect(blockHash(body.subarray(entry.offset, entry.offset + entry.length))).toBe(entry.hash);
  }, 60_000);
});

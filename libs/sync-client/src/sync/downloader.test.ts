import { randomBytes } from 'node:crypto';
import { blockHash } from '@filesync/sync-core';
import { BlockIntegrityError, StorageObjectGoneError, type BlockStore } from '../storage/block-store';
import {
  coalesceRanges,
  Downloader,
  type BlockSource,
  type DownloadFile,
  type LocalBlockReader,
} from './downloader';
import type { BlockLocation, LocatedBlocks } from './remote';

/**
 * Small fakes of the two ports the downloader uses (no network): a BlockStore holding packs and
 * legacy objects in memory and counting reads, and a LocateBlocks that answers from a table.
 */
class FakeStorage implements Pick<BlockStore, 'get' | 'getRange'> {
  readonly packs = new Map<string, Buffer>();
  readonly legacy = new Map<string, Buffer>();
  readonly ranges: { packId: string; offset: number; length: number }[] = [];
  readonly gets: string[] = [];
  /** Reads of these packs come back with one byte flipped, this many times. */
  corrupt = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;

  /** Ranged reads that went into a buffer the downloader lent, and the distinct buffers lent. */
  lent = 0;
  readonly lentBuffers = new Set<ArrayBufferLike>();

  async get(_ns: string, hash: string): Promise<Uint8Array> {
    this.gets.push(hash);
    const bytes = this.legacy.get(hash);
    if (!bytes) throw new StorageObjectGoneError(`no object ${hash}`);
    return bytes;
  }
  async getRange(
    _ns: string,
    packId: string,
    offset: number,
    length: number,
    into?: Uint8Array,
  ): Promise<Uint8Array> {
    this.ranges.push({ packId, offset, length });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight--;
    const pack = this.packs.get(packId);
    if (!pack || offset + length > pack.length) throw new StorageObjectGoneError(`no pack ${packId}`);
    // Into the caller's buffer when it lends one, as S3BlockStore does: a buffer reused too early
    // would change the bytes of files still being written.
    const bytes = into ? Buffer.from(into.buffer, into.byteOffset, length) : Buffer.alloc(length);
    bytes.set(pack.subarray(offset, offset + length));
    if (into) {
      this.lent++;
      this.lentBuffers.add(into.buffer);
    }
    const times = this.corrupt.get(packId) ?? 0;
    if (times > 0) {
      this.corrupt.set(packId, times - 1);
      bytes[0] = bytes[0]! ^ 0xff;
    }
    return bytes;
  }

  /** Writes blocks into a pack (no trailer: the downloader reads only block ranges). */
  addPack(packId: string, blocks: readonly Buffer[], table: Map<string, BlockLocation>): void {
    let offset = 0;
    for (const bytes of blocks) {
      const hash = blockHash(bytes);
      table.set(hash, { hash, packId, offset, length: bytes.length });
      offset += bytes.length;
    }
    this.packs.set(packId, Buffer.concat(blocks));
  }
}

class FakeLocator {
  readonly table = new Map<string, BlockLocation>();
  readonly calls: number[] = [];
  async locateBlocks(_ns: string, hashes: readonly string[]): Promise<LocatedBlocks> {
    this.calls.push(hashes.length);
    const locations: BlockLocation[] = [];
    const missing: string[] = [];
    for (const hash of hashes) {
      const location = this.table.get(hash);
      if (location) locations.push(location);
      else missing.push(hash);
    }
    return { locations, missing };
  }
}

/** Collects what the downloader hands out: each file's bytes, or its failure. */
class Sink {
  readonly written = new Map<string, Buffer>();
  readonly failed = new Map<string, Error>();
  async write(file: DownloadFile, source: BlockSource): Promise<void> {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < file.blockHashes.length; i++) parts.push(await source.block(i));
    this.written.set(file.path, Buffer.concat(parts));
  }
  fail(file: DownloadFile, error: Error): void {
    this.failed.set(file.path, error);
  }
}

function fileOf(path: string, blocks: readonly Buffer[]): DownloadFile {
  return {
    path,
    size: blocks.reduce((sum, block) => sum + block.length, 0),
    blockHashes: blocks.map((block) => blockHash(block)),
  };
}

/** Compares bytes by hash: jest's deep equality walks a Buffer byte by byte. */
function digest(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? 'absent' : blockHash(bytes);
}

function smallBlocks(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => randomBytes(1024 + (i % 7) * 1000));
}

describe('coalesceRanges', () => {
  const at = (packId: string, offset: number, length: number, hash = `${packId}-${offset}`) => ({
    hash,
    packId,
    offset,
    length,
  });

  it('merges adjacent blocks and reads small gaps through, per pack', () => {
    const ranges = coalesceRanges(
      [at('a', 100, 50), at('a', 0, 100), at('a', 160, 40), at('b', 0, 10), at('a', 1000, 10)],
      20,
      10_000,
    );
    expect(ranges.map((range) => [range.packId, range.offset, range.length, range.blocks.length])).toEqual([
      ['a', 0, 200, 3],
      ['a', 1000, 10, 1],
      ['b', 0, 10, 1],
    ]);
  });

  it('splits at the longest read, keeps an oversized block whole, reads a duplicate once, skips legacy blocks', () => {
    const ranges = coalesceRanges(
      [at('a', 0, 60), at('a', 60, 60), at('a', 120, 500), at('a', 60, 60), at('', 0, 0, 'legacy')],
      0,
      150,
    );
    expect(ranges.map((range) => [range.offset, range.length])).toEqual([
      [0, 120],
      [120, 500],
    ]);
  });
});

describe('Downloader', () => {
  it('downloads many small files of two packs with one ranged read per pack, byte-identical', async () => {
    const storage = new FakeStorage();
    const locator = new FakeLocator();
    const blocks = smallBlocks(400);
    storage.addPack('p1', blocks.slice(0, 200), locator.table);
    storage.addPack('p2', blocks.slice(200), locator.table);
    const files = blocks.map((block, i) => fileOf(`f${i}`, [block]));
    const sink = new Sink();
    await new Downloader('ns', storage, locator).run(files, sink);
    expect(sink.failed.size).toBe(0);
    for (const [i, block] of blocks.entries()) expect(digest(sink.written.get(`f${i}`))).toBe(digest(block));
    expect(storage.ranges).toHaveLength(2);
    expect(locator.calls).toEqual([400]);
  });

  it('reads the ranges of many batches into two reused buffers, and no file gets bytes of a later batch', async () => {
    const storage = new FakeStorage();
    const locator = new FakeLocator();
    const blocks = smallBlocks(600);
    for (let pack = 0; pack < 3; pack++)
      storage.addPack(`p${pack}`, blocks.slice(pack * 200, pack * 200 + 200), locator.table);
    const files = blocks.map((block, i) => fileOf(`f${i}`, [block]));
    // Holds the views it was given across a few turns before copying them: a buffer handed to
    // the next batch's reads meanwhile would show up as wrong bytes.
    const slow = new Sink();
    slow.write = async (file, source) => {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < file.blockHashes.length; i++) parts.push(await source.block(i));
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      slow.written.set(file.path, Buffer.concat(parts));
    };
    await new Downloader('ns', storage, locator, { batchBytes: 64 * 1024 }).run(files, slow);
    expect(slow.failed.size).toBe(0);
    for (const [i, block] of blocks.entries()) expect(digest(slow.written.get(`f${i}`))).toBe(digest(block));
    // About 3.6 MiB in batches of 64 KiB: dozens of batches, every range read into a lent buffer.
    expect(storage.ranges.length).toBeGreaterThan(20);
    expect(storage.lent).toBe(storage.ranges.length);
    expect(storage.lentBuffers.size).toBe(2);
  });

  it('asks LocateBlocks at most LIMITS.maxBlockHashesPerQuery hashes a call', async () => {
    const storage = new FakeStorage();
    const locator = new FakeLocator();
    const blocks = Array.from({ length: 10_001 }, (_, i) => Buffer.from(`block ${i}`));
    storage.addPack('p', blocks, locator.table);
    const sink = new Sink();
    await new Downloader('ns', storage, locator).run(
      blocks.map((block, i) => fileOf(`f${i}`, [block])),
      sink,
    );
    expect(locator.calls).toEqual([10_000, 1]);
    expect(sink.written.size).toBe(10_001);
  });

  it('a corrupted range is read again once and then verified; a block corrupt twice fails its file and is never written', async () => {
    const storage = new FakeStorage();
    const locator = new FakeLocator();
    const blocks = smallBlocks(4);
    storage.addPack('good-after-retry', blocks.slice(0, 2), locator.table);
    storage.addPack('bad', blocks.slice(2), locator.table);
    storage.corrupt.set('good-after-retry', 1);
    storage.corrupt.set('bad', 3);
    const files = [
      fileOf('retried', [blocks[0]!, blocks[1]!]),
      fileOf('corrupt', [blocks[2]!]),
      fileOf('fine-in-bad-pack', [blocks[3]!]),
    ];
    const sink = new Sink();
    await new Downloader('ns', storage, locator).run(files, sink);
    // The first block of a range carries the flipped byte: only it is read again.
    expect(digest(sink.written.get('retried'))).toBe(digest(Buffer.concat([blocks[0]!, blocks[1]!])));
    expect(digest(sink.written.get('fine-in-bad-pack'))).toBe(digest(blocks[3]));
    expect(sink.written.has('corrupt')).toBe(false);
    expect(sink.failed.get('corrupt')).toBeInstanceOf(BlockIntegrityError);
  });

  it('a pack gone (rewritten by the collector) makes its blocks be located again once', async () => {
    const storage = new FakeStorage();
    const locator = new FakeLocator();
    const blocks = smallBlocks(3);
    storage.addPack('old', blocks, locator.table);
    const moved = new Map<string, BlockLocation>();
    storage.addPack('new', blocks, moved);
    storage.packs.delete('old');
    const sink = new Sink();
    const locate = locator.locateBlocks.bind(locator);
    jest.spyOn(locator, 'locateBlocks').mockImplementation(async (ns, hashes) => {
      const answer = await locate(ns, hashes);
      // The collector finished the rewrite after the first answer.
      for (const [hash, location] of moved) locator.table.set(hash, location);
      return answer;
    });
    await new Downloader('ns', storage, locator).run(
      blocks.map((block, i) => fileOf(`f${i}`, [block])),
      sink,
    );
    expect(sink.failed.size).toBe(0);
    expect(digest(sink.written.get('f2'))).toBe(digest(blocks[2]));
    expect(locator.calls).toEqual([3, 3]);
  });

  it('a pack still gone after re-locating fails its files; a block the server lacks fails its file', async () => {
    const storage = new FakeStorage();
    const locator = new FakeLocator();
    const blocks = smallBlocks(2);
    storage.addPack('gone', [blocks[0]!], locator.table);
    storage.packs.delete('gone');
    const sink = new Sink();
    await new Downloader('ns', storage, locator).run(
      [fileOf('gone', [blocks[0]!]), fileOf('missing', [blocks[1]!])],
      sink,
    );
    expect(sink.written.size).toBe(0);
    expect(sink.failed.get('gone')).toBeInstanceOf(StorageObjectGoneError);
    expect(sink.failed.get('missing')?.message).toMatch(/missing/);
    expect(locator.calls).toEqual([2, 1]);
  });

  it('reads a legacy own-object block (empty pack id) whole', async () => {
    const storage = new FakeStorage();
    const locator = new FakeLocator();
    const bytes = randomBytes(3000);
    const hash = blockHash(bytes);
    storage.legacy.set(hash, bytes);
    locator.table.set(hash, { hash, packId: '', offset: 0, length: 0 });
    const sink = new Sink();
    await new Downloader('ns', storage, locator).run([fileOf('old', [bytes])], sink);
    expect(digest(sink.written.get('old'))).toBe(digest(bytes));
    expect(storage.gets).toEqual([hash]);
    expect(storage.ranges).toHaveLength(0);
  });

  it('a large file streams through a bounded window of blocks', async () => {
    const storage = new FakeStorage();
    const locator = new FakeLocator();
    const blocks = Array.from({ length: 64 }, () => randomBytes(4096));
    // One block per pack, so each fetch is a read of its own.
    for (const [i, block] of blocks.entries()) storage.addPack(`p${i}`, [block], locator.table);
    const file = fileOf('large', blocks);
    let fetchedAhead = 0;
    const getRange = storage.getRange.bind(storage);
    let consumed = 0;
    jest.spyOn(storage, 'getRange').mockImplementation(async (...args) => {
      fetchedAhead = Math.max(fetchedAhead, storage.ranges.length + 1 - consumed);
      return getRange(...args);
    });
    const written: Uint8Array[] = [];
    await new Downloader('ns', storage, locator, { smallFileBytes: 1024, windowBlocks: 4 }).run([file], {
      write: async (_file, source) => {
        for (let i = 0; i < blocks.length; i++) {
          written.push(await source.block(i));
          consumed++;
        }
      },
      fail: (_file, error) => {
        throw error;
      },
    });
    expect(digest(Buffer.concat(written))).toBe(digest(Buffer.concat(blocks)));
    expect(fetchedAhead).toBeLessThanOrEqual(4);
  });

  it('a large file edited elsewhere: blocks this device holds are read here, only the changed ones fetched; a local copy that changed is fetched after all', async () => {
    const storage = new FakeStorage();
    const locator = new FakeLocator();
    const blocks = Array.from({ length: 12 }, () => randomBytes(4096));
    for (const [i, block] of blocks.entries()) storage.addPack(`p${i}`, [block], locator.table);
    // This device holds blocks 0-9 of an older version; block 3's local copy changed since the scan.
    const held = new Map(blocks.slice(0, 10).map((block) => [blockHash(block), block] as const));
    const changed = blockHash(blocks[3]!);
    const reads: string[] = [];
    const local: LocalBlockReader = {
      has: (hash) => held.has(hash),
      read: async (hash) => {
        reads.push(hash);
        return hash === changed ? undefined : held.get(hash);
      },
    };
    const file = fileOf('large', blocks);
    const fromLocal: boolean[] = [];
    const written: Uint8Array[] = [];
    await new Downloader('ns', storage, locator, { smallFileBytes: 1024, local }).run([file], {
      write: async (_file, source) => {
        for (let i = 0; i < blocks.length; i++) {
          written.push(await source.block(i));
          fromLocal.push(source.fromLocal?.(i) === true);
        }
      },
      fail: (_file, error) => {
        throw error;
      },
    });
    expect(digest(Buffer.concat(written))).toBe(digest(Buffer.concat(blocks)));
    // Fetched: the two blocks not held, and block 3 whose local copy no longer verified.
    expect(storage.ranges.map((range) => range.packId).sort()).toEqual(['p10', 'p11', 'p3']);
    expect(fromLocal).toEqual(blocks.map((_, i) => i < 10 && i !== 3));
    // Only what was not held was located up front; block 3 was located when its read failed.
    expect(locator.calls).toEqual([2, 1]);
    expect(reads).toHaveLength(10);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockHash, readPackTrailer } from '@filesync/sync-core';
import { hashFile, inlineHasher, type Hasher } from '../hashing/hash-file';
import type { PackRecord } from './remote';
import { BufferPool } from './pack-buffers';
import { UploadingHasher, type StreamedUploadReport } from './streamed-upload';

const MiB = 1024 * 1024;

/**
 * Unit tests with small fakes of the ports a streamed upload uses: BlockStore.putPack (an
 * in-memory bucket whose PUTs can be held), SyncRemote.findMissingBlocks (answers from a set of
 * stored hashes) and SyncRemote.registerPacks (records calls).
 */
class FakePorts {
  readonly objects = new Map<string, Buffer>();
  readonly registered: PackRecord[][] = [];
  /** Hashes the server already has (findMissingBlocks leaves them out). */
  readonly known = new Set<string>();
  readonly asked: string[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** PUTs started (held or not). */
  puts = 0;
  /** When set, each PUT waits for this before it completes. */
  hold: Promise<void> | undefined;
  failPut = false;
  /** Called when a PUT starts (before it is held). */
  onPut: (() => Promise<void> | void) | undefined;

  readonly blocks = {
    putPack: async (_ns: string, packId: string, bytes: Uint8Array) => {
      this.puts++;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        // Copied when the PUT starts, as a socket would send it.
        const body = Buffer.from(bytes);
        await this.onPut?.();
        await this.hold;
        await new Promise((resolve) => setImmediate(resolve));
        if (this.failPut) throw new Error('storage said no');
        this.objects.set(packId, body);
        return 'uploaded' as const;
      } finally {
        this.inFlight--;
      }
    },
  };

  readonly remote = {
    findMissingBlocks: async (_ns: string, hashes: readonly string[]) => {
      this.asked.push([...hashes]);
      return hashes.filter((hash) => !this.known.has(hash));
    },
    registerPacks: async (_ns: string, packs: readonly PackRecord[]) => {
      this.registered.push([...packs]);
      for (const pack of packs) for (const block of pack.blocks) this.known.add(block.hash);
    },
  };

  /** Every stored block, checked against its hash, by hash. */
  storedBlocks(): Map<string, Buffer> {
    const blocks = new Map<string, Buffer>();
    for (const body of this.objects.values())
      for (const entry of readPackTrailer(body, body.byteLength)) {
        const bytes = body.subarray(entry.offset, entry.offset + entry.length);
        expect(blockHash(bytes)).toBe(entry.hash);
        blocks.set(entry.hash, bytes);
      }
    return blocks;
  }
}

describe('UploadingHasher (upload while hashing)', () => {
  let dir: string;
  let ports: FakePorts;
  const reports: StreamedUploadReport[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streamed-'));
    ports = new FakePorts();
    reports.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function hasher(options: { buffers?: number; inner?: Hasher } = {}): UploadingHasher {
    return new UploadingHasher(
      options.inner ?? inlineHasher,
      {
        namespaceId: 'ns',
        blocks: ports.blocks,
        remote: ports.remote,
        // Small packs (one or two blocks): a few MiB of file make many packs.
        packTargetBytes: 2 * MiB,
        buffers: options.buffers ?? 3,
      },
      1 * MiB,
      (_path, report) => reports.push(report),
    );
  }

  it('hashes exactly as hashFile does and stores and registers every block before it resolves', async () => {
    const path = join(dir, 'big.bin');
    const data = randomBytes(10 * MiB);
    await writeFile(path, data);
    const result = await hasher().hash(path, data.byteLength);
    expect(result).toEqual(await hashFile(path));
    const stored = ports.storedBlocks();
    for (const block of result.blocks)
      expect(stored.get(block.hash)).toEqual(data.subarray(block.offset, block.offset + block.length));
    const registered = new Set(ports.registered.flat().flatMap((pack) => pack.blocks.map((b) => b.hash)));
    expect(registered).toEqual(new Set(result.blocks.map((block) => block.hash)));
    expect(ports.objects.size).toBeGreaterThan(2);
    expect(reports).toEqual([expect.objectContaining({ packs: ports.objects.size, bytes: data.byteLength })]);
  }, 60_000);

  it('starts PUTting before the file is hashed, and makes no more buffers than its pool', async () => {
    const path = join(dir, 'big.bin');
    await writeFile(path, randomBytes(16 * MiB));
    // The first PUT is held until a second one starts: 16 MiB make 8 packs or more and the pool has 3
    // buffers, so the hash cannot end first; the second PUT must start while it is still running.
    let release!: () => void;
    ports.hold = new Promise<void>((resolve) => (release = resolve));
    let hashed = false;
    let hashedAtSecondPut: boolean | undefined;
    ports.onPut = () => {
      if (ports.puts === 2) {
        hashedAtSecondPut = hashed;
        release();
      }
    };
    const pools = new Set<BufferPool>();
    const take = BufferPool.prototype.take;
    const spy = jest.spyOn(BufferPool.prototype, 'take').mockImplementation(function (this: BufferPool) {
      pools.add(this);
      return take.call(this);
    });
    try {
      await hasher({ buffers: 3 })
        .hash(path, 16 * MiB)
        .then(() => (hashed = true));
    } finally {
      spy.mockRestore();
    }
    expect(hashedAtSecondPut).toBe(false);
    expect(ports.objects.size).toBeGreaterThanOrEqual(8);
    expect([...pools].map((pool) => pool.allocated)).toEqual([3]);
    expect(ports.maxInFlight).toBeLessThanOrEqual(3);
  }, 60_000);

  it('sends only what the server lacks, each block once, and nothing for a file it has', async () => {
    const path = join(dir, 'big.bin');
    // 12 MiB of zeros in the middle cut into the same block again and again.
    const data = Buffer.concat([randomBytes(MiB), Buffer.alloc(12 * MiB), randomBytes(MiB)]);
    await writeFile(path, data);
    const first = await hasher().hash(path, data.byteLength);
    const sent = [...ports.objects.values()].reduce(
      (sum, body) => sum + readPackTrailer(body, body.byteLength).reduce((n, e) => n + e.length, 0),
      0,
    );
    const distinct = new Map(first.blocks.map((block) => [block.hash, block.length]));
    expect(sent).toBe([...distinct.values()].reduce((sum, length) => sum + length, 0));
    expect(sent).toBeLessThan(data.byteLength);
    expect(ports.asked.flat()).toHaveLength(distinct.size);

    const objects = ports.objects.size;
    const again = await hasher().hash(path, data.byteLength);
    expect(again).toEqual(first);
    expect(ports.objects.size).toBe(objects);
  }, 60_000);

  it('never stores a block whose bytes differ from its hash when the file changes while it is read', async () => {
    const path = join(dir, 'big.bin');
    const before = randomBytes(16 * MiB);
    await writeFile(path, before);
    const after = randomBytes(16 * MiB);
    ports.onPut = async () => {
      // Rewritten while the first packs are on their way and the rest is still to be read.
      if (ports.puts === 1) await writeFile(path, after);
    };
    const result = await hasher().hash(path, before.byteLength);
    // Whatever mix of old and new bytes was read, every stored block is exactly its hash's bytes
    // (storedBlocks checks it) and the result names only blocks that were read and stored.
    const stored = ports.storedBlocks();
    for (const block of result.blocks) expect(stored.has(block.hash)).toBe(true);
    expect(result.contentHash).not.toBe((await hashFile(path)).contentHash);
  }, 60_000);

  it('leaves blocks it could not store for the commit path and still returns the hash', async () => {
    const path = join(dir, 'big.bin');
    await writeFile(path, randomBytes(6 * MiB));
    ports.failPut = true;
    const result = await hasher().hash(path, 6 * MiB);
    expect(result).toEqual(await hashFile(path));
    expect(ports.registered).toEqual([]);
    expect(reports[0]!.failure).toEqual(new Error('storage said no'));
    // The server still lacks every block: the commit path uploads them after the diff.
    expect(
      await ports.remote.findMissingBlocks(
        'ns',
        result.blocks.map((b) => b.hash),
      ),
    ).toHaveLength(new Set(result.blocks.map((b) => b.hash)).size);
  }, 60_000);

  it('hashes small files and files beyond the one streaming without uploading them', async () => {
    const small = join(dir, 'small.bin');
    await writeFile(small, randomBytes(MiB - 1));
    const big = [join(dir, 'a.bin'), join(dir, 'b.bin')];
    for (const path of big) await writeFile(path, randomBytes(4 * MiB));
    const uploading = hasher();
    expect(await uploading.hash(small, MiB - 1)).toEqual(await hashFile(small));
    expect(ports.objects.size).toBe(0);
    const both = await Promise.all(big.map((path) => uploading.hash(path, 4 * MiB)));
    expect(both).toEqual(await Promise.all(big.map((path) => hashFile(path))));
    // One file streamed (one report); the other was only hashed.
    expect(reports).toHaveLength(1);
    expect(ports.storedBlocks().size).toBe(both[0]!.blocks.length);
  }, 60_000);
});

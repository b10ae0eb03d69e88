import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIMITS } from '@filesync/resources';
import { blockHash, readPackTrailer } from '@filesync/sync-core';
import type { BlockRef } from '../state/state-db';
import { registerBatches, type PackRecord } from './remote';
import { BufferPool, packBufferBytes } from './pack-buffers';
import { FIRST_PACK_BYTES, uploadPacks, type PackSource, type StoredPack } from './uploader';

/**
 * Unit tests with small fakes of the two ports the uploader uses: BlockStore.putPack (an
 * in-memory bucket, optionally held or failing) and SyncRemote.registerPacks (records calls).
 */
class FakePorts {
  readonly objects = new Map<string, Buffer>();
  readonly puts: string[] = [];
  readonly registered: PackRecord[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** When set, each PUT waits for this before it completes. */
  hold: Promise<void> | undefined;
  failPut: ((bytes: Buffer) => boolean) | undefined;
  failRegister = false;

  readonly blocks = {
    putPack: async (_ns: string, packId: string, bytes: Uint8Array) => {
      this.puts.push(packId);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        await this.hold;
        await new Promise((resolve) => setImmediate(resolve));
        const body = Buffer.from(bytes);
        if (this.failPut?.(body)) throw new Error('storage said no');
        if (this.objects.has(packId)) return 'exists' as const;
        this.objects.set(packId, body);
        return 'uploaded' as const;
      } finally {
        this.inFlight--;
      }
    },
  };

  readonly remote = {
    registerPacks: async (_ns: string, packs: readonly PackRecord[]) => {
      if (this.failRegister) throw new Error('server said no');
      this.registered.push([...packs]);
    },
  };

  /** Every stored pack's blocks as read back from the object's trailer, in pack order. */
  packedHashes(): string[][] {
    return [...this.objects.values()].map((body) =>
      readPackTrailer(body, body.byteLength).map((entry) => {
        const bytes = body.subarray(entry.offset, entry.offset + entry.length);
        expect(blockHash(bytes)).toBe(entry.hash);
        return entry.hash;
      }),
    );
  }
}

describe('uploadPacks', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'uploader-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A file of `sizes` random blocks; returns it as a pack source with its block refs. */
  async function file(name: string, sizes: readonly number[]): Promise<PackSource & { bytes: Buffer }> {
    const parts = sizes.map((size) => randomBytes(size));
    const bytes = Buffer.concat(parts);
    const absPath = join(dir, name);
    await writeFile(absPath, bytes);
    let offset = 0;
    const blocks: BlockRef[] = parts.map((part) => {
      const ref = { hash: blockHash(part), offset, length: part.byteLength };
      offset += part.byteLength;
      return ref;
    });
    return { absPath, blocks, bytes };
  }

  it('packs blocks in the given order up to the target size, each hash once, and registers every pack', async () => {
    const ports = new FakePorts();
    const files = [];
    for (let i = 0; i < 20; i++) files.push(await file(`f${i}`, [300]));
    // A second file naming the first file's block: uploaded once.
    const twin = { absPath: files[0]!.absPath, blocks: files[0]!.blocks };
    const stored: StoredPack[] = [];
    const registered = uploadPacks([...files, twin], {
      namespaceId: 'ns',
      ...ports,
      packTargetBytes: 1_000,
      onPackStored: (pack) => stored.push(pack),
    });
    await Promise.all(registered.values());

    const order = files.map((f) => f.blocks[0]!.hash);
    expect(ports.packedHashes().flat()).toEqual(order);
    // 300-byte blocks, 1,000-byte target: three to a pack, 20 blocks in 7 packs.
    expect(ports.packedHashes().map((hashes) => hashes.length)).toEqual([3, 3, 3, 3, 3, 3, 2]);
    expect(ports.registered.flat().map((pack) => pack.packId)).toEqual([...ports.objects.keys()]);
    expect(stored.reduce((sum, pack) => sum + pack.bytes, 0)).toBe(20 * 300);
    expect(stored.reduce((sum, pack) => sum + pack.blocks, 0)).toBe(20);
  });

  it('starts with a small pack and doubles up to the target, so the first commits need not wait for a full pack', async () => {
    const ports = new FakePorts();
    const source = await file('big', Array(88).fill(128 * 1024));
    const registered = uploadPacks([source], {
      namespaceId: 'ns',
      ...ports,
      packTargetBytes: 4 * 1024 * 1024,
    });
    await Promise.all(registered.values());
    // FIRST_PACK_BYTES (1 MiB) of 128 KiB blocks is 8 of them, then 2 MiB, then the 4 MiB target.
    expect(FIRST_PACK_BYTES).toBe(1024 * 1024);
    expect(ports.packedHashes().map((hashes) => hashes.length)).toEqual([8, 16, 32, 32]);
    expect(ports.packedHashes().flat()).toEqual(source.blocks.map((block) => block.hash));
  });

  it('keeps at most putConcurrency PUTs in flight and stops reading meanwhile (bounded memory)', async () => {
    const ports = new FakePorts();
    let release!: () => void;
    ports.hold = new Promise((resolve) => (release = resolve));
    const big = await file(
      'big',
      Array.from({ length: 40 }, () => 1_000),
    );
    const registered = uploadPacks([big], {
      namespaceId: 'ns',
      ...ports,
      packTargetBytes: 2_000,
      putConcurrency: 2,
    });
    while (ports.puts.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Two PUTs held, the reader waiting with the third pack sealed: nothing more read.
    expect(ports.puts).toHaveLength(2);
    release();
    await Promise.all(registered.values());
    expect(ports.maxInFlight).toBe(2);
    // Pack buffers are reused once their PUT is done: every pack still holds its own blocks.
    expect(ports.packedHashes().flat()).toEqual(big.blocks.map((ref) => ref.hash));
    expect(ports.objects.size).toBe(20);
  });

  it('makes a pack committable as soon as it is registered, while later packs still upload', async () => {
    const ports = new FakePorts();
    const first = await file('first', [600]);
    const rest = await file('rest', [600, 600, 600]);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const put = ports.blocks.putPack;
    ports.blocks.putPack = async (ns, packId, bytes) => {
      if (ports.puts.length > 0) await held;
      return put(ns, packId, bytes);
    };
    const registered = uploadPacks([first, rest], { namespaceId: 'ns', ...ports, packTargetBytes: 1_000 });
    await registered.get(first.blocks[0]!.hash);
    expect(ports.registered).toHaveLength(1);
    release();
    await Promise.all(registered.values());
    expect(ports.registered.flat()).toHaveLength(4);
  });

  it('fails only the blocks of a pack storage refused, and a block whose file changed since it was hashed', async () => {
    const ports = new FakePorts();
    const a = await file('a', [500]);
    const b = await file('b', [500]);
    const c = await file('c', [500]);
    await writeFile(c.absPath, randomBytes(500));
    ports.failPut = (body) => body.includes(b.bytes);
    const registered = uploadPacks([a, b, c], { namespaceId: 'ns', ...ports, packTargetBytes: 600 });
    await expect(registered.get(a.blocks[0]!.hash)).resolves.toBeUndefined();
    await expect(registered.get(b.blocks[0]!.hash)).rejects.toThrow('storage said no');
    await expect(registered.get(c.blocks[0]!.hash)).rejects.toThrow('file changed since it was scanned');
    expect(ports.registered.flat()).toHaveLength(1);
  });

  it('leaves out blocks whose bytes changed since hashing, wherever they sit among blocks being checked, and packs the rest byte-exact', async () => {
    const ports = new FakePorts();
    const sizes = Array.from({ length: 12 }, (_, i) => 200 + i);
    const big = await file('big', sizes);
    // Blocks 1, 2 (adjacent), 6 and 11 (the last) change on disk after the scan hashed them.
    const changed = new Set([1, 2, 6, 11]);
    const bytes = Buffer.from(big.bytes);
    for (const index of changed) {
      const ref = big.blocks[index]!;
      randomBytes(ref.length).copy(bytes, ref.offset);
    }
    await writeFile(big.absPath, bytes);
    const registered = uploadPacks([big], { namespaceId: 'ns', ...ports, packTargetBytes: 1_000 });
    const outcomes = await Promise.allSettled(big.blocks.map((ref) => registered.get(ref.hash)));

    expect(outcomes.map((outcome) => outcome.status)).toEqual(
      big.blocks.map((_, i) => (changed.has(i) ? 'rejected' : 'fulfilled')),
    );
    for (const index of changed)
      expect((outcomes[index] as PromiseRejectedResult).reason).toEqual(
        new Error('file changed since it was scanned; it syncs next time'),
      );
    // packedHashes re-hashes every entry's bytes in every stored pack: none is a changed block.
    const kept = big.blocks.filter((_, i) => !changed.has(i)).map((ref) => ref.hash);
    expect(ports.packedHashes().flat()).toEqual(kept);
    expect(ports.registered.flat().flatMap((pack) => pack.blocks.map((block) => block.hash))).toEqual(kept);
  });

  it('sends no pack when every block of it changed since hashing', async () => {
    const ports = new FakePorts();
    const a = await file('a', [300, 300]);
    await writeFile(a.absPath, randomBytes(600));
    const registered = uploadPacks([a], { namespaceId: 'ns', ...ports });
    const outcomes = await Promise.allSettled(registered.values());
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(ports.puts).toHaveLength(0);
  });

  it('fails the blocks whose registration the server refused', async () => {
    const ports = new FakePorts();
    ports.failRegister = true;
    const a = await file('a', [500]);
    const registered = uploadPacks([a], { namespaceId: 'ns', ...ports });
    await expect(registered.get(a.blocks[0]!.hash)).rejects.toThrow('server said no');
  });

  it("takes its buffers from the pass's pool: two uploads one after another make no more than the pool holds", async () => {
    const ports = new FakePorts();
    const pool = new BufferPool(3, packBufferBytes(1_000));
    const first = [];
    const second = [];
    for (let i = 0; i < 12; i++) first.push(await file(`a${i}`, [400]));
    for (let i = 0; i < 12; i++) second.push(await file(`b${i}`, [400]));
    for (const sources of [first, second]) {
      const registered = uploadPacks(sources, { namespaceId: 'ns', ...ports, packTargetBytes: 1_000, pool });
      await Promise.all(registered.values());
    }
    expect(pool.allocated).toBeLessThanOrEqual(3);
    // Every buffer came back: the pool can lend all of them again.
    const all = await Promise.all([pool.take(), pool.take(), pool.take()]);
    expect(new Set(all).size).toBe(3);
    expect(pool.allocated).toBe(3);
    // Every block was sent, its bytes checked against its hash (packedHashes), whichever buffer
    // carried it.
    expect(new Set(ports.packedHashes().flat())).toEqual(
      new Set([...first, ...second].map((source) => source.blocks[0]!.hash)),
    );
  });

  it('fails the blocks of a file it cannot open', async () => {
    const ports = new FakePorts();
    const registered = uploadPacks(
      [{ absPath: join(dir, 'gone'), blocks: [{ hash: 'a'.repeat(64), offset: 0, length: 5 }] }],
      {
        namespaceId: 'ns',
        ...ports,
      },
    );
    await expect(registered.get('a'.repeat(64))).rejects.toThrow('ENOENT');
    expect(ports.puts).toHaveLength(0);
  });
});

describe('registerBatches', () => {
  const pack = (id: number, blocks: number): PackRecord => ({
    packId: String(id),
    size: blocks,
    blocks: Array.from({ length: blocks }, (_, i) => ({ hash: String(i), offset: i, length: 1 })),
  });

  it('puts at most maxPacksPerRegister packs and maxBlockHashesPerQuery blocks in one request, never splitting a pack', () => {
    const many = Array.from({ length: LIMITS.maxPacksPerRegister + 1 }, (_, i) => pack(i, 1));
    expect(registerBatches(many).map((batch) => batch.length)).toEqual([LIMITS.maxPacksPerRegister, 1]);
    const full = Array.from({ length: 4 }, (_, i) => pack(i, LIMITS.maxBlocksPerPack));
    const perRequest = Math.floor(LIMITS.maxBlockHashesPerQuery / LIMITS.maxBlocksPerPack);
    const batches = registerBatches(full);
    expect(batches[0]).toHaveLength(perRequest);
    expect(batches.flat()).toEqual(full);
    for (const batch of batches)
      expect(batch.reduce((sum, p) => sum + p.blocks.length, 0)).toBeLessThanOrEqual(
        LIMITS.maxBlockHashesPerQuery,
      );
  });
});

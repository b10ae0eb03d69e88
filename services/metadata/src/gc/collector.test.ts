// Unit tests of the collector's domain with small in-memory fakes of its two ports
// (src/testing/gc-fakes.ts: FakeGcIndex, FakeGcStorage); the real adapters run in
// libs/e2e/src/garbage-collection.int.test.ts against DynamoDB Local and moto.
import { createHash, randomBytes } from 'node:crypto';
import { PackBuilder, readPackTrailer } from '@filesync/sync-core';
import { FakeGcIndex, FakeGcStorage } from '../testing/gc-fakes';
import { GarbageCollector, type GcReport } from './collector';
import type { PackRecord } from './ports';

const NS = 'ns-1';
const GRACE = 1_000;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let now: number;
let index: FakeGcIndex;
let storage: FakeGcStorage;
const clock = { now: () => now };

beforeEach(() => {
  now = 1_000_000;
  index = new FakeGcIndex();
  storage = new FakeGcStorage(clock);
  index.heads.add(NS);
});

function collector(options: { dryRun?: boolean; fraction?: number } = {}) {
  return new GarbageCollector({
    index,
    storage,
    clock,
    graceMs: GRACE,
    rewriteBelowLiveFraction: options.fraction ?? 0.5,
    ...(options.dryRun ? { dryRun: true } : {}),
  });
}

/** A pack of `count` random blocks, stored and indexed (PACK# and BLOCK# items) as created at `atMs`. */
function packOf(count: number, atMs = now, blockBytes = 100) {
  const builder = new PackBuilder();
  const blocks: { hash: string; bytes: Buffer }[] = [];
  for (let i = 0; i < count; i += 1) {
    const bytes = randomBytes(blockBytes);
    const hash = sha(bytes);
    builder.add(hash, bytes);
    blocks.push({ hash, bytes });
  }
  const built = builder.finish();
  storage.put(NS, 'packs', built.packId, Buffer.concat(built.parts.map((part) => Buffer.from(part))), atMs);
  const record: PackRecord = {
    packId: built.packId,
    size: built.size,
    dataBytes: count * blockBytes,
    blocks: count,
    createdAtMs: atMs,
  };
  index.addPack(NS, record);
  for (const entry of built.entries) {
    index.addBlock(NS, {
      hash: entry.hash,
      pack: built.packId,
      offset: entry.offset,
      length: entry.length,
      createdAtMs: atMs,
    });
  }
  return { packId: built.packId, blocks, record };
}

const referTo = (hashes: string[], extra: { kind?: 'file' | 'version'; expiresAt?: number } = {}) =>
  index.addEntry(NS, {
    kind: extra.kind ?? 'file',
    blockHashes: hashes,
    ...(extra.expiresAt ? { expiresAt: extra.expiresAt } : {}),
  });

/** Two runs G apart: the first condemns, the second deletes. */
async function twoRuns(options: { dryRun?: boolean } = {}): Promise<[GcReport, GcReport]> {
  const first = await collector(options).run();
  now += GRACE;
  const second = await collector(options).run();
  return [first, second];
}

describe('blocks', () => {
  it('condemns an unreferenced block older than the grace, and deletes it (and its pack) one grace later', async () => {
    const old = packOf(2, now - GRACE);
    const first = await collector().run();
    expect(first).toMatchObject({ blocksCondemned: 2, blocksDeleted: 0, packsDeleted: 0 });
    expect(index.block(NS, old.blocks[0]!.hash)?.condemnedAtMs).toBe(1_000_000);
    now += GRACE;
    const second = await collector().run();
    expect(second).toMatchObject({ blocksDeleted: 2, packsDeleted: 1, bytesFreed: old.record.size });
    expect(index.block(NS, old.blocks[0]!.hash)).toBeUndefined();
    expect(index.pack(NS, old.packId)).toBeUndefined();
    expect(storage.has(NS, 'packs', old.packId)).toBe(false);
  });

  it('leaves a block younger than the grace alone (an upload not committed yet)', async () => {
    const young = packOf(1, now - GRACE + 1);
    const report = await collector().run();
    expect(report.blocksCondemned).toBe(0);
    expect(index.block(NS, young.blocks[0]!.hash)?.condemnedAtMs).toBeUndefined();
    expect(storage.has(NS, 'packs', young.packId)).toBe(true);
  });

  it('keeps a block condemned less than the grace ago', async () => {
    const pack = packOf(1, now - 10 * GRACE);
    await collector().run();
    now += GRACE - 1;
    const report = await collector().run();
    expect(report.blocksDeleted).toBe(0);
    expect(index.block(NS, pack.blocks[0]!.hash)).toBeDefined();
  });

  it('revives a condemned block that a file references again, and keeps it', async () => {
    const pack = packOf(1, now - GRACE);
    await collector().run();
    referTo([pack.blocks[0]!.hash]);
    now += GRACE;
    const report = await collector().run();
    expect(report).toMatchObject({ blocksRevived: 1, blocksDeleted: 0, packsDeleted: 0 });
    expect(index.block(NS, pack.blocks[0]!.hash)?.condemnedAtMs).toBeUndefined();
    expect(storage.has(NS, 'packs', pack.packId)).toBe(true);
  });

  it('loses the race to a commit that revives the block after the reference scan (conditional delete)', async () => {
    const pack = packOf(1, now - GRACE);
    const hash = pack.blocks[0]!.hash;
    await collector().run();
    now += GRACE;
    // The commit verified the block, found it condemned and revived it; its entry lands after our scan.
    index.afterReferenceScan = async () => {
      const seen = index.block(NS, hash)!.condemnedAtMs!;
      expect(await index.reviveBlock(NS, hash, seen)).toBe(true);
      referTo([hash]);
      index.afterReferenceScan = undefined;
    };
    const report = await collector().run();
    expect(report).toMatchObject({ blocksDeleted: 0, packsDeleted: 0 });
    expect(index.block(NS, hash)).toBeDefined();
    expect(storage.get(NS, 'packs', pack.packId)).toBeDefined();
  });

  it('deletes a legacy own-object block with its object, counting its bytes', async () => {
    const bytes = randomBytes(300);
    const hash = sha(bytes);
    storage.put(NS, 'blocks', hash, bytes, now - GRACE);
    index.addBlock(NS, { hash, createdAtMs: now - GRACE });
    const [, second] = await twoRuns();
    expect(second).toMatchObject({ blocksDeleted: 1, bytesFreed: 300, orphanBlocksDeleted: 0 });
    expect(storage.has(NS, 'blocks', hash)).toBe(false);
    expect(index.block(NS, hash)).toBeUndefined();
  });
});

describe('references', () => {
  it('counts live files and unexpired versions, not expired versions or tombstones', async () => {
    const pack = packOf(4, now - GRACE);
    const [file, kept, forever, expired] = pack.blocks.map((block) => block.hash);
    referTo([file!]);
    referTo([kept!], { kind: 'version', expiresAt: Math.floor(now / 1000) + 3600 });
    referTo([forever!], { kind: 'version' });
    referTo([expired!], { kind: 'version', expiresAt: Math.floor(now / 1000) });
    index.addEntry(NS, { kind: 'file', blockHashes: [] }); // a tombstone
    const report = await collector().run();
    expect(report.blocksCondemned).toBe(1);
    expect(index.block(NS, expired!)?.condemnedAtMs).toBe(now);
    for (const hash of [file!, kept!, forever!]) expect(index.block(NS, hash)?.condemnedAtMs).toBeUndefined();
  });

  it('expands long block lists, keeps their parts and collects parts nothing references in two phases', async () => {
    const pack = packOf(3, now - GRACE);
    const [a, b, c] = pack.blocks.map((block) => block.hash);
    index.addBlockList(NS, 'content-1', [[a!], [b!]]);
    index.addBlockList(NS, 'content-2', [[c!]]);
    index.addEntry(NS, { kind: 'file', blockHashes: [], blockList: { contentHash: 'content-1', parts: 2 } });
    const [first, second] = await twoRuns();
    expect(first).toMatchObject({ blocksCondemned: 1, blockListsCondemned: 1 });
    expect(second).toMatchObject({ blocksDeleted: 1, blockListsDeleted: 1 });
    expect([...index.listParts.get(NS)!.keys()].sort()).toEqual(['content-1#0', 'content-1#1']);
    expect(index.block(NS, a!)).toBeDefined();
    expect(index.block(NS, c!)).toBeUndefined();
  });

  it('revives a condemned block-list part that a commit references again', async () => {
    index.addBlockList(NS, 'content-1', [['x'.repeat(64)]]);
    await collector().run();
    index.addEntry(NS, { kind: 'file', blockHashes: [], blockList: { contentHash: 'content-1', parts: 1 } });
    now += GRACE;
    const report = await collector().run();
    expect(report).toMatchObject({ blockListsRevived: 1, blockListsDeleted: 0 });
    expect(index.listParts.get(NS)!.get('content-1#0')?.condemnedAtMs).toBeUndefined();
  });

  it('stops a namespace whose entry names a missing block-list part, and still collects the others', async () => {
    packOf(1, now - GRACE);
    index.addEntry(NS, { kind: 'file', blockHashes: [], blockList: { contentHash: 'gone', parts: 1 } });
    index.heads.add('ns-2');
    index.addBlock('ns-2', { hash: 'f'.repeat(64), createdAtMs: now - GRACE });
    const report = await collector().run();
    expect(report.errors).toEqual([{ namespaceId: NS, message: 'block list gone lacks part 0' }]);
    expect(report.blocksCondemned).toBe(1);
    expect(index.block('ns-2', 'f'.repeat(64))?.condemnedAtMs).toBe(now);
  });
});

describe('packs', () => {
  it('keeps a pack nothing points at while it is younger than the grace', async () => {
    const pack = packOf(1, now);
    index.blockItems.get(NS)!.clear();
    expect((await collector().run()).packsDeleted).toBe(0);
    now += GRACE;
    expect((await collector().run()).packsDeleted).toBe(1);
    expect(storage.has(NS, 'packs', pack.packId)).toBe(false);
  });

  it('waits a grace after retirement before deleting a retired pack', async () => {
    const pack = packOf(1, now - 10 * GRACE);
    index.blockItems.get(NS)!.clear();
    await index.retirePack(NS, pack.packId, now - GRACE + 1);
    expect((await collector().run()).packsDeleted).toBe(0);
    now += 1;
    expect((await collector().run()).packsDeleted).toBe(1);
  });

  it('rewrites a mostly-garbage pack: live blocks move to a verified new pack, the old one retires and goes later', async () => {
    const old = packOf(10, now - GRACE);
    const live = old.blocks.slice(0, 3);
    referTo(live.map((block) => block.hash));

    const first = await collector().run();
    expect(first).toMatchObject({
      blocksCondemned: 7,
      packsRewritten: 1,
      packsWritten: 1,
      blocksMoved: 3,
      bytesRewritten: 300,
    });
    const newPackId = index.block(NS, live[0]!.hash)!.pack!;
    expect(newPackId).not.toBe(old.packId);
    expect(index.pack(NS, old.packId)?.retiredAtMs).toBe(now);
    expect(index.pack(NS, newPackId)).toMatchObject({ blocks: 3, dataBytes: 300, createdAtMs: now });
    // Every live block reads back from its new location with its hash; the new pack has a valid trailer.
    const packBytes = storage.get(NS, 'packs', newPackId)!;
    expect(sha(packBytes)).toBe(newPackId);
    expect(
      readPackTrailer(packBytes, packBytes.byteLength)
        .map((entry) => entry.hash)
        .sort(),
    ).toEqual(live.map((block) => block.hash).sort());
    for (const block of live) {
      const item = index.block(NS, block.hash)!;
      expect(packBytes.subarray(item.offset!, item.offset! + item.length!)).toEqual(block.bytes);
    }
    // The garbage blocks are contiguous runs: one ranged read per run of live blocks.
    expect(storage.ranges).toEqual([{ packId: old.packId, offset: 0, length: 300 }]);

    now += GRACE;
    const second = await collector().run();
    expect(second).toMatchObject({ blocksDeleted: 7, packsDeleted: 1, packsRewritten: 0 });
    expect(storage.names(NS, 'packs')).toEqual([newPackId]);
  });

  it('does not rewrite a pack whose live bytes reach the fraction, nor a young pack', async () => {
    const half = packOf(4, now - GRACE);
    referTo(half.blocks.slice(0, 2).map((block) => block.hash));
    const young = packOf(4, now);
    referTo([young.blocks[0]!.hash]);
    expect((await collector().run()).packsRewritten).toBe(0);
  });

  it('leaves a pack whose block does not read back as its hash as it is, and reports it', async () => {
    const old = packOf(4, now - GRACE);
    referTo([old.blocks[0]!.hash]);
    const stored = storage.get(NS, 'packs', old.packId)!;
    stored[0] = stored[0]! ^ 0xff;
    const report = await collector().run();
    expect(report.packsRewritten).toBe(0);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]!.message).toContain(old.blocks[0]!.hash);
    expect(index.block(NS, old.blocks[0]!.hash)?.pack).toBe(old.packId);
    expect(index.pack(NS, old.packId)?.retiredAtMs).toBeUndefined();
  });

  it('keeps a block condemned during the rewrite where it was', async () => {
    const old = packOf(4, now - GRACE);
    const hash = old.blocks[0]!.hash;
    referTo([hash]);
    const original = index.moveBlock.bind(index);
    index.moveBlock = async (ns, moved, from, to) => {
      await index.condemnBlock(ns, moved, now);
      return original(ns, moved, from, to);
    };
    const report = await collector().run();
    expect(report).toMatchObject({ packsRewritten: 1, blocksMoved: 0 });
    expect(index.block(NS, hash)?.pack).toBe(old.packId);
    // Still pointed at: the retired pack's object stays.
    now += GRACE;
    index.moveBlock = original;
    await index.reviveBlock(NS, hash, now - GRACE);
    await collector().run();
    expect(index.pack(NS, old.packId)).toBeDefined();
    expect(storage.has(NS, 'packs', old.packId)).toBe(true);
  });
});

describe('orphans', () => {
  it('deletes pack objects without a PACK# item and legacy objects without a BLOCK# item, once older than the grace', async () => {
    storage.put(NS, 'packs', 'a'.repeat(64), randomBytes(50), now - GRACE);
    storage.put(NS, 'packs', 'b'.repeat(64), randomBytes(50), now - GRACE + 1);
    const legacy = randomBytes(70);
    storage.put(NS, 'blocks', sha(legacy), legacy, now - GRACE);
    const report = await collector().run();
    expect(report).toMatchObject({ orphanPacksDeleted: 1, orphanBlocksDeleted: 1, bytesFreed: 120 });
    expect(storage.names(NS, 'packs')).toEqual(['b'.repeat(64)]);
    expect(storage.names(NS, 'blocks')).toEqual([]);
  });

  it('keeps a legacy object a file references even without its BLOCK# item', async () => {
    const legacy = randomBytes(70);
    storage.put(NS, 'blocks', sha(legacy), legacy, now - GRACE);
    referTo([sha(legacy)]);
    expect((await collector().run()).orphanBlocksDeleted).toBe(0);
    expect(storage.has(NS, 'blocks', sha(legacy))).toBe(true);
  });

  it('keeps an orphan candidate whose PACK# item appeared since the scan', async () => {
    storage.put(NS, 'packs', 'a'.repeat(64), randomBytes(50), now - GRACE);
    const original = storage.packObjects.bind(storage);
    storage.packObjects = async function* (ns) {
      index.addPack(NS, { packId: 'a'.repeat(64), size: 50, dataBytes: 10, blocks: 1, createdAtMs: now });
      yield* original(ns);
    };
    expect((await collector().run()).orphanPacksDeleted).toBe(0);
    expect(storage.has(NS, 'packs', 'a'.repeat(64))).toBe(true);
  });
});

describe('scope', () => {
  it('collects only the namespaces it is given', async () => {
    const pack = packOf(1, now - GRACE);
    index.addBlock('ns-2', { hash: 'f'.repeat(64), createdAtMs: now - GRACE });
    const report = await collector().run(['ns-2']);
    expect(report).toMatchObject({ namespaces: 1, blocksCondemned: 1 });
    expect(index.block(NS, pack.blocks[0]!.hash)?.condemnedAtMs).toBeUndefined();
  });
});

describe('dry run', () => {
  it('reports what it would do and changes nothing', async () => {
    const pack = packOf(4, now - GRACE);
    referTo([pack.blocks[0]!.hash]);
    storage.put(NS, 'packs', 'a'.repeat(64), randomBytes(50), now - GRACE);
    const before = JSON.stringify([...index.blockItems.get(NS)!.values()]);
    const objects = storage.names(NS, 'packs').sort();
    const report = await collector({ dryRun: true }).run();
    expect(report).toMatchObject({
      dryRun: true,
      blocksCondemned: 3,
      packsRewritten: 1,
      orphanPacksDeleted: 1,
    });
    expect(JSON.stringify([...index.blockItems.get(NS)!.values()])).toBe(before);
    expect(storage.names(NS, 'packs').sort()).toEqual(objects);
    expect(index.pack(NS, pack.packId)?.retiredAtMs).toBeUndefined();
  });
});

// Unit tests of the block-index use cases with in-memory fakes of the BlockIndex and PackStorage
// ports (testing/fakes.ts; no DynamoDB, no S3).
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';
import { NS, blocksSetup, hashOf } from '../testing/fakes';
import { Blocks, type PackRegistration } from './blocks';

const PACK_A = hashOf(0xa0);
const PACK_B = hashOf(0xb0);

/** A pack of the given blocks, 10 bytes each, back to back (the trailer is not modelled here). */
const packOf = (packId: string, blocks: number[], size = 1_000): PackRegistration => ({
  packId,
  size,
  blocks: blocks.map((block, index) => ({ hash: hashOf(block), offset: index * 10, length: 10 })),
});

describe('Blocks.register', () => {
  it('indexes the blocks of a stored pack after one storage request per pack', async () => {
    const { index, packs, blocks } = blocksSetup(7_000);
    packs.put(NS, PACK_A, 1_000);
    packs.put(NS, PACK_B, 1_000);
    const result = await blocks.register(NS, [packOf(PACK_A, [1, 2]), packOf(PACK_B, [3])]);
    expect(result).toEqual({ indexed: 3, alreadyIndexed: 0 });
    expect(packs.heads).toBe(2);
    expect(index.blocks.get(`${NS}/${hashOf(2)}`)).toEqual({
      hash: hashOf(2),
      packId: PACK_A,
      offset: 10,
      length: 10,
      createdAtMs: 7_000,
      condemnedAtMs: undefined,
    });
    expect(index.packs.get(`${NS}/${PACK_A}`)).toEqual({
      packId: PACK_A,
      size: 1_000,
      dataBytes: 20,
      blocks: 2,
      createdAtMs: 7_000,
    });
  });

  it('refuses absent packs and packs of another size, naming them, and writes nothing', async () => {
    const { index, packs, blocks } = blocksSetup();
    packs.put(NS, PACK_B, 999);
    const error = await domainErrorRejectedBy(
      blocks.register(NS, [packOf(PACK_A, [1]), packOf(PACK_B, [2]), packOf(hashOf(0xc0), [3])]),
    );
    expect(error.kind).toBe('failed-precondition');
    expect(error.details).toEqual({ 'missing-packs': `${PACK_A},${PACK_B},${hashOf(0xc0)}` });
    expect(index.blocks.size).toBe(0);
    expect(index.packs.size).toBe(0);
  });

  it('refuses a pack written more than maxPackAgeMs ago (the collector may be deleting it), writes nothing', async () => {
    const { index, packs } = blocksSetup();
    const blocks = new Blocks(index, packs, { now: () => 100_000 }, 10_000);
    packs.put(NS, PACK_A, 1_000, 89_999);
    packs.put(NS, PACK_B, 1_000, 90_000);
    const error = await domainErrorRejectedBy(
      blocks.register(NS, [packOf(PACK_A, [1]), packOf(PACK_B, [2])]),
    );
    expect(error.kind).toBe('failed-precondition');
    expect(error.details).toEqual({ 'missing-packs': PACK_A });
    expect(index.blocks.size).toBe(0);
    expect(index.packs.size).toBe(0);
    expect(await blocks.register(NS, [packOf(PACK_B, [2])])).toEqual({ indexed: 1, alreadyIndexed: 0 });
  });

  it('keeps the location of a block indexed before and is idempotent', async () => {
    const { index, packs, blocks } = blocksSetup();
    index.add(NS, hashOf(1));
    packs.put(NS, PACK_A, 1_000);
    expect(await blocks.register(NS, [packOf(PACK_A, [1, 2])])).toEqual({ indexed: 1, alreadyIndexed: 1 });
    expect(index.blocks.get(`${NS}/${hashOf(1)}`)?.packId).toBeUndefined();
    const before = new Map(index.blocks);
    expect(await blocks.register(NS, [packOf(PACK_A, [1, 2])])).toEqual({ indexed: 0, alreadyIndexed: 2 });
    expect(index.blocks).toEqual(before);
  });

  it('indexes a block named twice in one call at its first copy', async () => {
    const { index, packs, blocks } = blocksSetup();
    packs.put(NS, PACK_A, 1_000);
    packs.put(NS, PACK_B, 1_000);
    const result = await blocks.register(NS, [packOf(PACK_A, [1, 1]), packOf(PACK_B, [1])]);
    expect(result).toEqual({ indexed: 1, alreadyIndexed: 2 });
    expect(index.blocks.get(`${NS}/${hashOf(1)}`)).toMatchObject({ packId: PACK_A, offset: 0 });
  });

  it('moves a condemned block to the new pack and revives it', async () => {
    const { index, packs, blocks } = blocksSetup(9_000);
    index.add(NS, hashOf(1));
    index.condemn(NS, hashOf(1), 4_000);
    packs.put(NS, PACK_A, 1_000);
    expect(await blocks.register(NS, [packOf(PACK_A, [1])])).toEqual({ indexed: 1, alreadyIndexed: 0 });
    expect(index.blocks.get(`${NS}/${hashOf(1)}`)).toEqual({
      hash: hashOf(1),
      packId: PACK_A,
      offset: 0,
      length: 10,
      createdAtMs: 9_000,
      condemnedAtMs: undefined,
    });
  });

  it('indexes a condemned block the collector deletes meanwhile at the new location', async () => {
    const { index, packs, blocks } = blocksSetup();
    index.add(NS, hashOf(1));
    index.condemn(NS, hashOf(1), 4_000);
    packs.put(NS, PACK_A, 1_000);
    let deleted = false;
    index.beforeWrite = (hash) => {
      // The collector's conditional delete lands between our read and our relocation.
      if (!deleted && index.calls.relocate === 1) {
        index.blocks.delete(`${NS}/${hash}`);
        deleted = true;
      }
    };
    expect(await blocks.register(NS, [packOf(PACK_A, [1])])).toEqual({ indexed: 1, alreadyIndexed: 0 });
    expect(deleted).toBe(true);
    expect(index.blocks.get(`${NS}/${hashOf(1)}`)).toMatchObject({
      packId: PACK_A,
      condemnedAtMs: undefined,
    });
  });
});

describe('Blocks.findMissing', () => {
  it('answers from the index alone: no storage request, condemned blocks count as held', async () => {
    const { index, packs, blocks } = blocksSetup();
    index.add(NS, hashOf(1), hashOf(2));
    index.condemn(NS, hashOf(2), 1_000);
    expect(await blocks.findMissing(NS, [hashOf(3), hashOf(1), hashOf(2), hashOf(3), hashOf(4)])).toEqual([
      hashOf(3),
      hashOf(4),
    ]);
    expect(packs.heads).toBe(0);
    expect(index.calls).toMatchObject({ lookup: 1, revive: 0 });
    // Reading does not revive: only a commit or a registration relies on the block.
    expect(index.blocks.get(`${NS}/${hashOf(2)}`)?.condemnedAtMs).toBe(1_000);
  });
});

describe('Blocks.missingForCommit', () => {
  it('revives condemned blocks and reports absent ones', async () => {
    const { index, blocks } = blocksSetup();
    index.add(NS, hashOf(1), hashOf(2));
    index.condemn(NS, hashOf(2), 1_000);
    expect(await blocks.missingForCommit(NS, [hashOf(1), hashOf(2), hashOf(3)])).toEqual([hashOf(3)]);
    expect(index.blocks.get(`${NS}/${hashOf(2)}`)?.condemnedAtMs).toBeUndefined();
    expect(index.calls.revive).toBe(1);
  });

  it('reports a condemned block the collector deletes before the revive as missing', async () => {
    const { index, blocks } = blocksSetup();
    index.add(NS, hashOf(1));
    index.condemn(NS, hashOf(1), 1_000);
    index.beforeWrite = (hash) => index.blocks.delete(`${NS}/${hash}`);
    expect(await blocks.missingForCommit(NS, [hashOf(1)])).toEqual([hashOf(1)]);
  });

  it('follows a condemnation that changed under it, and trusts a revive by someone else', async () => {
    const { index, blocks } = blocksSetup();
    index.add(NS, hashOf(1), hashOf(2));
    index.condemn(NS, hashOf(1), 1_000);
    index.condemn(NS, hashOf(2), 1_000);
    const recondemned = new Set<string>();
    index.beforeWrite = (hash) => {
      if (recondemned.has(hash)) return;
      recondemned.add(hash);
      if (hash === hashOf(1)) index.condemn(NS, hash, 2_000);
      else
        index.blocks.set(`${NS}/${hash}`, {
          ...index.blocks.get(`${NS}/${hash}`)!,
          condemnedAtMs: undefined,
        });
    };
    expect(await blocks.missingForCommit(NS, [hashOf(1), hashOf(2)])).toEqual([]);
    expect(index.blocks.get(`${NS}/${hashOf(1)}`)?.condemnedAtMs).toBeUndefined();
  });
});

describe('Blocks.locate', () => {
  it('answers packed and legacy locations in request order, each hash once, and the missing', async () => {
    const { index, packs, blocks } = blocksSetup();
    index.add(NS, hashOf(9));
    packs.put(NS, PACK_A, 1_000);
    await blocks.register(NS, [packOf(PACK_A, [1, 2])]);
    expect(await blocks.locate(NS, [hashOf(2), hashOf(5), hashOf(9), hashOf(2), hashOf(1)])).toEqual({
      locations: [
        { hash: hashOf(2), packId: PACK_A, offset: 10, length: 10 },
        { hash: hashOf(9), packId: undefined, offset: 0, length: 0 },
        { hash: hashOf(1), packId: PACK_A, offset: 0, length: 10 },
      ],
      missing: [hashOf(5)],
    });
  });
});

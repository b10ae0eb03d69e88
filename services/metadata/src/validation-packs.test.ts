// Unit tests: RegisterPacks request validation is pure (no ports).
import type { metadata } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import { domainErrorThrownBy } from '@filesync/server-kit/testing';
import { packTrailerBytes } from '@filesync/sync-core';
import { checkPacks } from './validation';

const hash = (n: number) => n.toString(16).padStart(64, '0');

/** A well-formed pack of blocks of the given lengths, back to back, trailer included. */
function pack(lengths: number[], id = hash(0xabc)): metadata.Pack {
  let offset = 0;
  const blocks = lengths.map((length, index) => {
    const block = { blockHash: hash(index + 1), offset, length };
    offset += length;
    return block;
  });
  return { packId: id, size: offset + packTrailerBytes(lengths.length), blocks };
}

const refusal = (packs: metadata.Pack[]) => {
  const error = domainErrorThrownBy(() => checkPacks(packs));
  expect(error.kind).toBe('invalid-argument');
  return error.message;
};

describe('checkPacks', () => {
  it('returns well-formed packs in domain terms', () => {
    expect(checkPacks([pack([10, 20])])).toEqual([
      {
        packId: hash(0xabc),
        size: 30 + packTrailerBytes(2),
        blocks: [
          { hash: hash(1), offset: 0, length: 10 },
          { hash: hash(2), offset: 10, length: 20 },
        ],
      },
    ]);
  });

  it('accepts gaps between blocks and the limits themselves', () => {
    const gapped = pack([10, 20]);
    gapped.blocks[1]!.offset = 15;
    gapped.size += 5;
    expect(checkPacks([gapped])[0]!.blocks[1]!.offset).toBe(15);
    expect(checkPacks([pack([LIMITS.chunkMaxBytes])])).toHaveLength(1);
    const many = Array.from({ length: LIMITS.maxPacksPerRegister }, (_, index) =>
      pack([1], hash(1000 + index)),
    );
    expect(checkPacks(many)).toHaveLength(LIMITS.maxPacksPerRegister);
  });

  it('refuses no packs, too many packs and too many blocks in all', () => {
    expect(refusal([])).toMatch(/at least one pack/);
    const many = Array.from({ length: LIMITS.maxPacksPerRegister + 1 }, (_, index) =>
      pack([1], hash(index + 1)),
    );
    expect(refusal(many)).toMatch(/at most 64 packs/);
    const perPack = Math.ceil((LIMITS.maxBlockHashesPerQuery + 1) / 3);
    const big = [1, 2, 3].map((n) =>
      pack(
        Array.from({ length: perPack }, () => 1),
        hash(n),
      ),
    );
    expect(refusal(big)).toMatch(/at most 10000 blocks per call/);
  });

  it('refuses a malformed pack id or size', () => {
    expect(refusal([{ ...pack([1]), packId: 'ABC' }])).toMatch(/packs\[0\]\.pack_id/);
    expect(refusal([{ ...pack([1]), packId: hash(0xabc).toUpperCase() }])).toMatch(/pack_id/);
    expect(refusal([{ ...pack([1]), size: 0 }])).toMatch(/packs\[0\]\.size must be 1 to/);
    expect(refusal([{ ...pack([1]), size: -5 }])).toMatch(/size/);
    expect(refusal([{ ...pack([1]), size: LIMITS.maxPackBytes + 1 }])).toMatch(/size/);
    expect(refusal([{ ...pack([1]), size: 1.5 }])).toMatch(/size/);
  });

  it('refuses a pack without blocks or with more than a pack may hold', () => {
    expect(refusal([{ ...pack([1]), blocks: [] }])).toMatch(/blocks must hold 1 to 4096/);
    const crowded = pack(Array.from({ length: LIMITS.maxBlocksPerPack + 1 }, () => 1));
    expect(refusal([crowded])).toMatch(/blocks must hold 1 to 4096 blocks, got 4097/);
  });

  it('refuses bad block entries, naming the field', () => {
    const badHash = pack([1, 2]);
    badHash.blocks[1]!.blockHash = 'nothex';
    expect(refusal([badHash])).toMatch(/packs\[0\]\.blocks\[1\]\.block_hash/);
    for (const length of [0, -1, LIMITS.chunkMaxBytes + 1, 2.5]) {
      const bad = pack([4, 4]);
      bad.blocks[0]!.length = length;
      expect(refusal([bad])).toMatch(/packs\[0\]\.blocks\[0\]\.length must be 1 to/);
    }
  });

  it('refuses blocks out of order, overlapping, at a negative offset or past the data section', () => {
    const overlapping = pack([10, 10]);
    overlapping.blocks[1]!.offset = 5;
    expect(refusal([overlapping])).toMatch(/blocks\[1\]\.offset 5 overlaps/);
    const reversed = pack([10, 10]);
    reversed.blocks.reverse();
    expect(refusal([reversed])).toMatch(/blocks\[1\]\.offset 0 overlaps/);
    const negative = pack([10]);
    negative.blocks[0]!.offset = -1;
    expect(refusal([negative])).toMatch(/offset -1/);
    // The trailer is not data: a block reaching into it is refused.
    const intoTrailer = pack([10]);
    intoTrailer.blocks[0]!.length = 11;
    expect(refusal([intoTrailer])).toMatch(
      /blocks\[0\] ends at byte 11, past the pack's data section \(10 bytes/,
    );
    const tooSmall = { ...pack([10]), size: 5 };
    expect(refusal([tooSmall])).toMatch(/past the pack's data section \(0 bytes/);
  });
});

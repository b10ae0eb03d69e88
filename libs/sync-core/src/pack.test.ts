import { blockHash } from './content-hash';
import { PackBuilder, PackFormatError, readPackTrailer } from './pack';

const block = (fill: number, length: number) => Buffer.alloc(length, fill);

describe('pack format', () => {
  it('round-trips its entries through the trailer, and its id is the SHA-256 of the object', () => {
    const builder = new PackBuilder(1024);
    const blocks = [block(1, 10), block(2, 300), block(3, 1)];
    for (const bytes of blocks) builder.add(blockHash(bytes), bytes);
    const pack = builder.finish();
    const object = Buffer.concat(pack.parts);
    expect(object.byteLength).toBe(pack.size);
    expect(pack.packId).toBe(blockHash(object));
    expect(readPackTrailer(object, pack.size)).toEqual(pack.entries);
    for (const [index, entry] of pack.entries.entries())
      expect(object.subarray(entry.offset, entry.offset + entry.length)).toEqual(blocks[index]);
  });

  it('reads the trailer from the object tail alone', () => {
    const builder = new PackBuilder();
    const bytes = block(7, 5000);
    builder.add(blockHash(bytes), bytes);
    const pack = builder.finish();
    const object = Buffer.concat(pack.parts);
    expect(readPackTrailer(object.subarray(5000), pack.size)).toEqual(pack.entries);
  });

  it('is full past its target but always takes a first block', () => {
    const builder = new PackBuilder(100, 2);
    expect(builder.wouldExceed(500)).toBe(false);
    builder.add(blockHash(block(1, 500)), block(1, 500));
    expect(builder.wouldExceed(1)).toBe(true);
    const small = new PackBuilder(100, 2);
    small.add(blockHash(block(1, 1)), block(1, 1));
    small.add(blockHash(block(2, 1)), block(2, 1));
    expect(small.wouldExceed(1)).toBe(true);
  });

  it('refuses bad input: an empty pack, an empty block, a malformed hash, a foreign object', () => {
    expect(() => new PackBuilder().finish()).toThrow(PackFormatError);
    expect(() => new PackBuilder().add(blockHash(Buffer.alloc(0)), Buffer.alloc(0))).toThrow(PackFormatError);
    expect(() => new PackBuilder().add('XYZ', block(1, 1))).toThrow(PackFormatError);
    expect(() => readPackTrailer(Buffer.alloc(64), 64)).toThrow(PackFormatError);
  });
});

describe('pack ids are never reused', () => {
  it('two packs of the same blocks are different objects with different ids', () => {
    const bytes = block(9, 100);
    const ids = [1, 2].map(() => {
      const builder = new PackBuilder();
      builder.add(blockHash(bytes), bytes);
      const pack = builder.finish();
      expect(readPackTrailer(Buffer.concat(pack.parts), pack.size)).toEqual(pack.entries);
      return pack.packId;
    });
    expect(ids[0]).not.toBe(ids[1]);
  });
});

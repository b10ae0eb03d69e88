import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIMITS } from '@filesync/resources';
import { blockHash } from '@filesync/sync-core';
import { hashFile } from './hash-file';
import { hashFileInSegments, type HashedSegment, type SegmentBuffers } from './hash-segments';
import { WorkerHasher } from './worker-hasher';

const MiB = 1024 * 1024;

/** Lends up to `count` buffers, taken back by `give`; counts the buffers the hasher holds. */
class Lender implements SegmentBuffers {
  /** Taken and not yet emitted (the hasher's own), and the most at any time. */
  held = 0;
  maxHeld = 0;
  /** Buffers lent so far (never more than `count`). */
  made = 0;
  private readonly free: ArrayBufferLike[] = [];
  private readonly waiting: ((buffer: ArrayBufferLike) => void)[] = [];
  constructor(
    private readonly count: number,
    private readonly bytes = LIMITS.chunkMaxBytes + MiB,
    private readonly shared = false,
  ) {}
  take(): Promise<ArrayBufferLike> {
    this.held++;
    this.maxHeld = Math.max(this.maxHeld, this.held);
    const buffer =
      this.free.pop() ??
      (this.made < this.count
        ? (this.made++, this.shared ? new SharedArrayBuffer(this.bytes) : new ArrayBuffer(this.bytes))
        : undefined);
    return buffer ? Promise.resolve(buffer) : new Promise((resolve) => this.waiting.push(resolve));
  }
  give(buffer: ArrayBufferLike): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }
}

/** Checks a segment's blocks against their hashes and the file, and gives its buffer back. */
function checked(data: Buffer, lender: Lender, seen: HashedSegment['blocks'][number][]) {
  return (segment: HashedSegment) => {
    lender.held--;
    const bytes = Buffer.from(segment.buffer);
    let at = 0;
    for (const block of segment.blocks) {
      const inSegment = bytes.subarray(at, at + block.length);
      expect(blockHash(inSegment)).toBe(block.hash);
      expect(inSegment.equals(data.subarray(block.offset, block.offset + block.length))).toBe(true);
      at += block.length;
      seen.push(block);
    }
    // Given back later, as an upload would once its PUT is done.
    setImmediate(() => lender.give(segment.buffer));
  };
}

describe('hashFileInSegments', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'segments-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes like hashFile, emitting every block once, in order, in segments within the pack rule', async () => {
    const path = join(dir, 'f.bin');
    const data = randomBytes(20 * MiB + 123);
    await writeFile(path, data);
    const lender = new Lender(2);
    const seen: HashedSegment['blocks'][number][] = [];
    const sizes: number[] = [];
    const emit = checked(data, lender, seen);
    const result = await hashFileInSegments(
      path,
      { targetBytes: 5 * MiB, maxBlocks: 3 },
      lender,
      (segment) => {
        const bytes = segment.blocks.reduce((sum, block) => sum + block.length, 0);
        expect(segment.blocks.length).toBeLessThanOrEqual(3);
        if (segment.blocks.length > 1) expect(bytes).toBeLessThanOrEqual(5 * MiB);
        sizes.push(bytes);
        emit(segment);
      },
    );
    expect(result).toEqual(await hashFile(path));
    expect(seen).toEqual(result.blocks);
    expect(sizes.length).toBeGreaterThan(4);
    // More segments than the two buffers lent: reading waited for buffers to come back, and
    // asked for the next one only once the last was handed on.
    expect(lender.made).toBe(2);
    expect(lender.maxHeld).toBe(1);
  }, 60_000);

  it('emits nothing for an empty file', async () => {
    const path = join(dir, 'empty');
    await writeFile(path, '');
    const emitted: HashedSegment[] = [];
    const result = await hashFileInSegments(path, { targetBytes: MiB, maxBlocks: 10 }, new Lender(1), (s) =>
      emitted.push(s),
    );
    expect(result).toEqual(await hashFile(path));
    expect(emitted).toEqual([]);
  });

  it.each([
    ['transferred there and back', false],
    ['shared with it, each sent once and named by id afterwards', true],
  ])(
    'runs on a worker thread, with the buffers %s',
    async (_how, shared) => {
      const path = join(dir, 'f.bin');
      const data = randomBytes(18 * MiB);
      await writeFile(path, data);
      const hasher = new WorkerHasher(1, 1);
      try {
        const lender = new Lender(3, LIMITS.packTargetBytes + MiB, shared);
        const seen: HashedSegment['blocks'][number][] = [];
        const result = await hasher.hashInSegments(
          path,
          data.byteLength,
          { targetBytes: 4 * MiB, maxBlocks: LIMITS.maxBlocksPerPack },
          lender,
          checked(data, lender, seen),
        );
        expect(result).toEqual(await hashFile(path));
        expect(seen).toEqual(result.blocks);
        expect(lender.made).toBe(3);
        // The worker holds the buffer it fills and, asked ahead, the next one: never more.
        expect(lender.maxHeld).toBe(2);
        await expect(
          hasher.hashInSegments(join(dir, 'missing'), MiB, { targetBytes: MiB, maxBlocks: 1 }, lender, () => {
            throw new Error('nothing to emit');
          }),
        ).rejects.toThrow('ENOENT');
      } finally {
        await hasher.close();
      }
    },
    60_000,
  );
});

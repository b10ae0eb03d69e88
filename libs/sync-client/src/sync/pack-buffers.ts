import { LIMITS } from '@filesync/resources';
import { packTrailerBytes } from '@filesync/sync-core';
import type { SegmentBuffers } from '../hashing/hash-segments';

/**
 * Pack PUTs in flight at once. With the pack being filled this bounds the block bytes the
 * uploader holds: (PACK_PUT_CONCURRENCY + 1) * packTargetBytes, whatever the size of the files.
 * Three: against the local stack a fourth did not make uploads faster (the 1 GiB upload took
 * 0.94 of aws s3 cp's time with three), and each costs a pack buffer of the client's 300 MiB.
 */
export const PACK_PUT_CONCURRENCY = 3;

/**
 * Buffers of one pass's uploads: a streamed file holds one being filled by the hasher and one it
 * holds ready (see hash-worker.ts), one being packed and the rest PUT at once; the pack pipeline
 * after the diff fills one and PUTs PACK_PUT_CONCURRENCY.
 */
export const PACK_BUFFERS = PACK_PUT_CONCURRENCY + 3;

/** Bytes of a buffer that holds any pack of `targetBytes`: the target or one largest block, and the largest trailer. */
export function packBufferBytes(targetBytes: number = LIMITS.packTargetBytes): number {
  return Math.max(targetBytes, LIMITS.chunkMaxBytes) + packTrailerBytes(LIMITS.maxBlocksPerPack);
}

/**
 * A fixed set of buffers, made on first use and reused for the whole pass: `take` waits while
 * all are out, `give` returns one. Never more than `count` exist at once, which is what bounds
 * the memory of a pass's uploads.
 *
 * Reused rather than allocated per pack or per window on purpose: glibc serves a buffer of this
 * size from the main heap once one has been freed (its mmap threshold rises to 32 MiB), and
 * buffers freed among smaller allocations there leave the heap fragmented; a 100,000-file first
 * sync grew the main heap by about 90 MiB that way.
 *
 * Shared (SharedArrayBuffer) so the hash worker fills them in place (see worker-hasher.ts): a
 * transferred ArrayBuffer arrives as a new object, and V8 counts its megabytes as new external
 * memory each time, which made it run a full collection every few segments (about 40 per GiB
 * uploaded, 1.5 s of main-thread CPU).
 */
export class BufferPool implements SegmentBuffers {
  private readonly free: SharedArrayBuffer[] = [];
  private readonly waiting: ((buffer: SharedArrayBuffer) => void)[] = [];
  private made = 0;
  /** Milliseconds `take` callers spent waiting for a buffer (the uploads were the slower side). */
  waitedMs = 0;

  constructor(
    readonly count: number,
    readonly bytes: number,
  ) {}

  /** Buffers made so far, less those forgotten (never more than `count`). */
  get allocated(): number {
    return this.made;
  }

  take(): Promise<SharedArrayBuffer> {
    const buffer = this.free.pop();
    if (buffer) return Promise.resolve(buffer);
    if (this.made < this.count) {
      this.made++;
      return Promise.resolve(new SharedArrayBuffer(this.bytes));
    }
    const since = Date.now();
    return new Promise((resolve) =>
      this.waiting.push((buffer) => {
        this.waitedMs += Date.now() - since;
        resolve(buffer);
      }),
    );
  }

  give(buffer: ArrayBufferLike): void {
    // One of another kind or size (a test's, a worker's copy) is not ours to keep.
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== this.bytes) return;
    const next = this.waiting.shift();
    if (next) next(buffer);
    // A buffer forgotten (see `forget`) that comes back after all, once its replacement exists:
    // keeping both would hold more than `count`.
    else if (this.free.length < this.made) this.free.push(buffer);
  }

  /**
   * Buffers that will never come back (transferred to a worker that died): the pool may make as
   * many new ones, so its takers do not wait forever.
   */
  forget(count: number): void {
    for (let i = 0; i < count && this.made > 0; i++) {
      this.made--;
      const next = this.waiting.shift();
      if (!next) continue;
      this.made++;
      next(new SharedArrayBuffer(this.bytes));
    }
  }
}

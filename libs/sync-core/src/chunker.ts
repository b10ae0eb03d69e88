import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { LIMITS } from '@filesync/resources';

/**
 * FastCDC content-defined chunking (Xia et al., USENIX ATC 2016) with normalized chunking.
 *
 * Written here rather than taken from npm: the FastCDC packages there are 0.1.x WebAssembly
 * wrappers without upkeep, and every client must cut identical boundaries forever (blocks are
 * deduplicated by hash across devices), so the algorithm and its constants belong to us.
 *
 * Boundaries are part of the storage format: changing the seed, the masks or the limits makes
 * every client re-upload everything. Do not change them without a format version.
 */

/** One content-defined block of a file. */
export interface Chunk {
  /** Byte offset of the block in the file. */
  readonly offset: number;
  /** Length of the block in bytes. */
  readonly length: number;
  /** Lowercase hex SHA-256 of the block's bytes. */
  readonly hash: string;
}

export interface ChunkLimits {
  readonly minBytes: number;
  readonly avgBytes: number;
  readonly maxBytes: number;
}

export const DEFAULT_CHUNK_LIMITS: ChunkLimits = {
  minBytes: LIMITS.chunkMinBytes,
  avgBytes: LIMITS.chunkAvgBytes,
  maxBytes: LIMITS.chunkMaxBytes,
};

/**
 * The gear table: 256 pseudo-random 32-bit values, entry i = the first 4 bytes (big endian) of
 * SHA-256("filesync-fastcdc-gear-v1:" + i). A hash-derived table needs no 1 KiB literal in the
 * source and is reproducible in any language from this one line.
 */
const GEAR_SEED = 'filesync-fastcdc-gear-v1:';
// Held as signed 32-bit integers: the rolling hash then stays a small integer in V8 (no heap
// numbers), which makes the loop several times faster; the bits are the same.
const GEAR = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  GEAR[i] = createHash('sha256').update(`${GEAR_SEED}${i}`).digest().readInt32BE(0);
}

/**
 * A mask of `bits` one-bits in the top of a 32-bit word. The rolling hash shifts left once per
 * byte, so the high bits depend on the most bytes (bit 31 on the last 32): testing high bits
 * gives the widest effective window.
 */
function topBitsMask(bits: number): number {
  return 0xffffffff << (32 - bits);
}

interface Masks {
  /** Harder to match: used before the average size, so fewer tiny chunks. */
  readonly small: number;
  /** Easier to match: used after the average size, so fewer chunks hit the maximum. */
  readonly large: number;
}

function masksFor(avgBytes: number): Masks {
  const bits = Math.round(Math.log2(avgBytes));
  // Normalization level 2, as recommended by the FastCDC paper.
  return { small: topBitsMask(bits + 2), large: topBitsMask(bits - 2) };
}

/** Length of the next chunk starting at `start`; `end` is where the available bytes stop. */
function cutPoint(data: Uint8Array, start: number, end: number, limits: ChunkLimits, masks: Masks): number {
  let size = end - start;
  if (size <= limits.minBytes) return size;
  if (size > limits.maxBytes) size = limits.maxBytes;
  const normal = Math.min(limits.avgBytes, size);
  const { small, large } = masks;
  let fp = 0;
  let i = start + limits.minBytes;
  const normalEnd = start + normal;
  const sizeEnd = start + size;
  for (; i < normalEnd; i++) {
    fp = ((fp << 1) + GEAR[data[i]!]!) | 0;
    if ((fp & small) === 0) return i + 1 - start;
  }
  for (; i < sizeEnd; i++) {
    fp = ((fp << 1) + GEAR[data[i]!]!) | 0;
    if ((fp & large) === 0) return i + 1 - start;
  }
  return size;
}

function validate(limits: ChunkLimits): void {
  if (!(limits.minBytes > 0 && limits.minBytes <= limits.avgBytes && limits.avgBytes <= limits.maxBytes)) {
    throw new RangeError('chunk limits must satisfy 0 < min <= avg <= max');
  }
}

/** Chunks of an in-memory buffer; for small files and tests. */
export function chunkBuffer(data: Uint8Array, limits: ChunkLimits = DEFAULT_CHUNK_LIMITS): Chunk[] {
  validate(limits);
  const masks = masksFor(limits.avgBytes);
  const chunks: Chunk[] = [];
  let offset = 0;
  while (offset < data.length) {
    const length = cutPoint(data, offset, data.length, limits, masks);
    const hash = createHash('sha256')
      .update(data.subarray(offset, offset + length))
      .digest('hex');
    chunks.push({ offset, length, hash });
    offset += length;
  }
  return chunks;
}

/**
 * Chunks a byte stream. Only a chunk that ends before the buffered bytes do (or at the end of
 * the stream) is emitted: a cut needs up to maxBytes of lookahead, so the tail is carried over
 * to the next read.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array>,
  limits: ChunkLimits = DEFAULT_CHUNK_LIMITS,
): AsyncGenerator<Chunk> {
  validate(limits);
  const masks = masksFor(limits.avgBytes);
  let pending: Buffer = Buffer.alloc(0);
  let offset = 0;
  const emit = function* (final: boolean): Generator<Chunk> {
    let position = 0;
    while (position < pending.length && (final || pending.length - position >= limits.maxBytes)) {
      const length = cutPoint(pending, position, pending.length, limits, masks);
      const hash = createHash('sha256')
        .update(pending.subarray(position, position + length))
        .digest('hex');
      yield { offset, length, hash };
      offset += length;
      position += length;
    }
    pending = pending.subarray(position);
  };
  for await (const bytes of source) {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    pending = pending.length === 0 ? view : Buffer.concat([pending, view]);
    yield* emit(false);
  }
  yield* emit(true);
}

const READ_BUFFER_BYTES = 8 * 1024 * 1024;

/** Reads a file in slices of up to 8 MiB. */
export async function* readFileSlices(
  path: string,
  bufferBytes = READ_BUFFER_BYTES,
): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    // A small file gets a buffer of its own size: allocating 8 MiB per file would dominate the
    // scan of a folder of small files. A file that grows meanwhile is still read to its end.
    const sliceBytes = Math.max(1, Math.min(bufferBytes, (await handle.stat()).size));
    for (;;) {
      // A fresh buffer per read: the chunker keeps references to the carried-over tail.
      const buffer = Buffer.allocUnsafe(sliceBytes);
      const { bytesRead } = await handle.read(buffer, 0, sliceBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Chunks of a file on disk, streamed in reads of up to `readBytes` (8 MiB) into one buffer
 * reused for the whole file (the uncut tail moves to its front before the next read): memory
 * stays at readBytes + maxBytes whatever the file's size, and a large file makes no garbage.
 * A file that grows meanwhile is still read to its end.
 */
export async function* chunkFile(
  path: string,
  limits: ChunkLimits = DEFAULT_CHUNK_LIMITS,
  readBytes = READ_BUFFER_BYTES,
): AsyncGenerator<Chunk> {
  for await (const { offset, length, hash } of chunkFileBytes(path, limits, readBytes))
    yield { offset, length, hash };
}

/** A chunk with the bytes it was hashed from. */
export interface ChunkBytes extends Chunk {
  /** The block's bytes: a view of the reader's buffer, valid only until the next chunk is asked for. */
  readonly bytes: Uint8Array;
}

/**
 * chunkFile with each chunk's bytes, for a caller that sends them on without reading the file
 * again (what it sends is then exactly what was hashed). Same reads, same memory.
 */
export async function* chunkFileBytes(
  path: string,
  limits: ChunkLimits = DEFAULT_CHUNK_LIMITS,
  readBytes = READ_BUFFER_BYTES,
): AsyncGenerator<ChunkBytes> {
  validate(limits);
  const masks = masksFor(limits.avgBytes);
  const handle = await open(path, 'r');
  try {
    const most = readBytes + limits.maxBytes;
    // A small file gets a buffer of its own size: allocating 12 MiB per file would dominate the
    // scan of a folder of small files.
    let buffer = Buffer.allocUnsafe(Math.max(1, Math.min(most, (await handle.stat()).size)));
    let start = 0;
    let end = 0;
    let offset = 0;
    for (;;) {
      if (start > 0) {
        buffer.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      // Full without a cut (the file grew past its size at open): room for one more read.
      if (end === buffer.length) {
        const bigger = Buffer.allocUnsafe(Math.min(most, buffer.length * 2 + 1));
        buffer.copy(bigger, 0, 0, end);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, end, Math.min(readBytes, buffer.length - end), null);
      const final = bytesRead === 0;
      end += bytesRead;
      while (start < end && (final || end - start >= limits.maxBytes)) {
        const length = cutPoint(buffer, start, end, limits, masks);
        const bytes = buffer.subarray(start, start + length);
        const hash = createHash('sha256').update(bytes).digest('hex');
        yield { offset, length, hash, bytes };
        offset += length;
        start += length;
      }
      if (final) return;
    }
  } finally {
    await handle.close();
  }
}

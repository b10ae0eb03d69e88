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
 * Boundaries are part of the storage format: blocks are deduplicated by hash, so clients that cut
 * the same bytes differently share fewer blocks, and the same bytes get another content hash.
 * This is format 2 (normalization level 3, see masksFor); format 1 (level 2) cut elsewhere. A
 * namespace may hold both: a device whose file holds a server version's bytes cut otherwise
 * records it rather than keeping a conflicted copy (the sync engine's holdsServerVersion), so a
 * change of format costs storage and transfer, never a spurious conflict. Do not change the seed,
 * the masks or the limits without a new format number here and in the golden test.
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
  // Normalization level 3 (format 2; format 1 was level 2, the FastCDC paper's recommendation):
  // blocks past avgBytes end at the large mask's first match, one in avgBytes / 8 bytes, so a
  // block is rarely much longer than the average. An edit re-uploads the block it falls in (see
  // Cutter), so the length of that block is what an edit costs: at level 2 about one insertion in 30
  // fell in a block over twice the average, at level 3 about one in 1,500.
  return { small: topBitsMask(bits + 3), large: topBitsMask(bits - 3) };
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

/**
 * A block of an earlier version of the file being chunked: its length in bytes and the
 * lowercase hex SHA-256 of its bytes. Offsets are not needed: a block is looked for wherever
 * its bytes may have moved.
 */
export interface ReferenceBlock {
  readonly length: number;
  readonly hash: string;
}

/**
 * Most candidate positions a chunk looks for a reference block at. Random bytes give one
 * candidate every avgBytes / 4 (the large mask), so a chunk of at most maxBytes holds about 16 at
 * most; only crowded candidates (a short pattern repeated) come near it.
 */
const MAX_POSITIONS_PER_CHUNK = 256;
/**
 * Most reference blocks a chunk hashes bytes for. Random bytes hash about one (the block found):
 * a candidate that lies exactly one reference length past another is rare, except where a
 * repeated pattern makes every length land on one; there each would cost up to maxBytes.
 */
const MAX_HASHES_PER_CHUNK = 32;

/**
 * Where the cuts go, for one stream of bytes: FastCDC's cut points, except that the blocks of
 * the file's previous version (the reference) are kept wherever their bytes still occur.
 *
 * Why: FastCDC skips minBytes after each cut and switches masks at avgBytes, so where it cuts
 * depends on where the chunk began. After an insertion the new chunks begin elsewhere and only
 * fall back onto the old boundaries by chance (in our measurements an insertion of 1 MiB
 * re-uploaded a median 1.8 average blocks besides itself, and up to 9). With the reference,
 * every position where a block may begin (a large-mask match of a rolling hash that is never
 * reset, which every FastCDC cut but a forced one is) is checked for an old block's bytes
 * (length lookup, then SHA-256): the first one found ends the new chunk, and the old blocks
 * follow from there. An edit then costs the block it falls in (plus the edit), and identical
 * bytes give back the reference's blocks exactly, so the file's content hash does not change
 * when it is read again. This is the idea of rsync's block matching, applied to CDC cut points.
 *
 * Without a reference the cuts are plain FastCDC, the format every client shares.
 */
class Cutter {
  private readonly masks: Masks;
  private readonly hashesByLength = new Map<number, Set<string>>();
  /** The reference's block lengths, ascending, each once. */
  private readonly lengths: number[];
  /** Absolute positions after which a block may begin, ascending, from `first` on. */
  private candidates: number[] = [];
  private first = 0;
  /** Absolute position up to which the rolling hash has run. */
  private scanned = 0;
  private rolling = 0;
  /** Reference lookups (hashes) left to the chunk being cut (MAX_HASHES_PER_CHUNK). */
  private hashesLeft = 0;
  /** The reference in file order, and where each hash is in it. */
  private readonly sequence: readonly ReferenceBlock[];
  private readonly indexesByHash = new Map<string, number[]>();
  /**
   * The index in `sequence` of the block after the last one kept: tried first at the next
   * chunk's start, so bytes that repeat a block elsewhere in the file still give back the
   * reference in its own order (a shorter repeat would otherwise win at that spot).
   */
  private expected = 0;
  /** A reference block found at the end of the chunk just cut: the next chunk. */
  private found: (Omit<Chunk, 'offset'> & { readonly at: number }) | undefined;
  /** Bytes a cut needs past the chunk's start, unless the data ends first. */
  readonly lookahead: number;

  constructor(
    private readonly limits: ChunkLimits,
    reference: readonly ReferenceBlock[] = [],
  ) {
    validate(limits);
    this.masks = masksFor(limits.avgBytes);
    for (const { length, hash } of reference) {
      if (length <= 0 || length > limits.maxBytes) continue;
      let hashes = this.hashesByLength.get(length);
      if (!hashes) this.hashesByLength.set(length, (hashes = new Set()));
      hashes.add(hash);
    }
    this.lengths = [...this.hashesByLength.keys()].sort((a, b) => a - b);
    this.sequence = reference;
    reference.forEach(({ hash }, index) => {
      const indexes = this.indexesByHash.get(hash);
      if (indexes) indexes.push(index);
      else this.indexesByHash.set(hash, [index]);
    });
    // A chunk can end at most maxBytes in, and an old block found at its end runs maxBytes more.
    this.lookahead = this.hashesByLength.size > 0 ? 2 * limits.maxBytes : limits.maxBytes;
  }

  /**
   * The next chunk of `data[start, end)`, whose byte `start` is at absolute position `base +
   * start`. Unless `final`, `end - start` is at least `lookahead`.
   */
  next(data: Uint8Array, start: number, end: number, base: number, final: boolean): Omit<Chunk, 'offset'> {
    if (this.hashesByLength.size === 0) {
      const length = cutPoint(data, start, end, this.limits, this.masks);
      return { length, hash: sha256(data.subarray(start, start + length)) };
    }
    this.scan(data, end, base);
    this.hashesLeft = MAX_HASHES_PER_CHUNK;
    const at = base + start;
    const found = this.found?.at === at ? this.found : undefined;
    this.found = undefined;
    const kept =
      found ??
      this.expectedBlockAt(data, at, base + end, base) ??
      this.referenceBlockAt(data, at, base + end, base, final);
    if (kept) {
      this.follow(kept.hash);
      return { length: kept.length, hash: kept.hash };
    }
    let length = cutPoint(data, start, end, this.limits, this.masks);
    // Bytes where candidates crowd (a short pattern repeated, whose rolling hash matches at
    // every period) would otherwise cost a reference lookup at each of thousands of positions:
    // past MAX_POSITIONS_PER_CHUNK the chunk keeps its plain cut.
    const from = this.indexAfter(at);
    const to = Math.min(this.candidates.length, from + MAX_POSITIONS_PER_CHUNK);
    for (let i = from; i < to; i++) {
      const position = this.candidates[i]!;
      if (position >= at + length) break;
      const next = this.referenceBlockAt(data, position, base + end, base, final);
      if (next) {
        this.found = { at: position, ...next };
        length = position - at;
        break;
      }
    }
    return { length, hash: sha256(data.subarray(start, start + length)) };
  }

  /** The block expected next (see `expected`), if its bytes start at absolute `at`. */
  private expectedBlockAt(
    data: Uint8Array,
    at: number,
    dataEnd: number,
    base: number,
  ): Omit<Chunk, 'offset'> | undefined {
    const block = this.sequence[this.expected];
    if (!block || !this.hashesByLength.has(block.length) || at + block.length > dataEnd) return undefined;
    this.hashesLeft--;
    const hash = sha256(data.subarray(at - base, at - base + block.length));
    return hash === block.hash ? { length: block.length, hash } : undefined;
  }

  /** After keeping the reference block `hash`: the one after it (its first place not behind us) is expected next. */
  private follow(hash: string): void {
    const indexes = this.indexesByHash.get(hash) ?? [];
    const index = indexes.find((candidate) => candidate >= this.expected) ?? indexes[0];
    if (index !== undefined) this.expected = index + 1;
  }

  /** Extends the candidate positions over the bytes up to `end`. */
  private scan(data: Uint8Array, end: number, base: number): void {
    const large = this.masks.large;
    let fp = this.rolling;
    for (let i = this.scanned - base; i < end; i++) {
      fp = ((fp << 1) + GEAR[data[i]!]!) | 0;
      if ((fp & large) === 0) this.candidates.push(base + i + 1);
    }
    this.rolling = fp;
    this.scanned = base + end;
  }

  /** Index of the first candidate after `position` (from `first` on; binary search). */
  private candidateAfter(position: number): number {
    let low = this.first;
    let high = this.candidates.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.candidates[middle]! <= position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Index of the first candidate after `position`; drops the ones before it for good. */
  private indexAfter(position: number): number {
    while (this.first < this.candidates.length && this.candidates[this.first]! <= position) this.first++;
    if (this.first > 4096) {
      this.candidates = this.candidates.slice(this.first);
      this.first = 0;
    }
    return this.first;
  }

  /** The reference block whose bytes start at absolute `at`, if any. */
  private referenceBlockAt(
    data: Uint8Array,
    at: number,
    dataEnd: number,
    base: number,
    final: boolean,
  ): Omit<Chunk, 'offset'> | undefined {
    const limit = Math.min(at + this.limits.maxBytes, dataEnd);
    const tried = new Set<number>();
    const tryLength = (length: number) => {
      if (tried.has(length)) return undefined;
      tried.add(length);
      const hashes = this.hashesByLength.get(length);
      if (!hashes || this.hashesLeft <= 0) return undefined;
      this.hashesLeft--;
      const hash = sha256(data.subarray(at - base, at - base + length));
      return hashes.has(hash) ? { length, hash } : undefined;
    };
    // Candidates are not dropped here: `at` may be ahead of the chunk being cut. The shortest
    // reference length that ends on a candidate wins: found by walking the candidates in the
    // window or, when they outnumber the lengths (crowded candidates), the lengths.
    const low = this.candidateAfter(at);
    const high = this.candidateAfter(limit);
    if (high - low <= this.lengths.length) {
      for (let i = low; i < high; i++) {
        const found = tryLength(this.candidates[i]! - at);
        if (found) return found;
      }
    } else {
      for (const length of this.lengths) {
        if (at + length > limit) break;
        const i = this.candidateAfter(at + length - 1);
        if (i < high && this.candidates[i] === at + length) {
          const found = tryLength(length);
          if (found) return found;
        }
      }
    }
    // A block forced at maxBytes, or the file's last block, ends where no candidate need be.
    if (at + this.limits.maxBytes <= dataEnd) return tryLength(this.limits.maxBytes);
    return final ? tryLength(dataEnd - at) : undefined;
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Chunks of an in-memory buffer; for small files and tests. With `reference` (the blocks of
 * the file's previous version), its blocks are kept wherever their bytes still occur (Cutter).
 */
export function chunkBuffer(
  data: Uint8Array,
  limits: ChunkLimits = DEFAULT_CHUNK_LIMITS,
  reference?: readonly ReferenceBlock[],
): Chunk[] {
  const cutter = new Cutter(limits, reference);
  const chunks: Chunk[] = [];
  let offset = 0;
  while (offset < data.length) {
    const { length, hash } = cutter.next(data, offset, data.length, 0, true);
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
  reference?: readonly ReferenceBlock[],
): AsyncGenerator<Chunk> {
  const cutter = new Cutter(limits, reference);
  let pending: Buffer = Buffer.alloc(0);
  let offset = 0;
  const emit = function* (final: boolean): Generator<Chunk> {
    let position = 0;
    while (position < pending.length && (final || pending.length - position >= cutter.lookahead)) {
      const { length, hash } = cutter.next(pending, position, pending.length, offset - position, final);
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
 * stays at readBytes + maxBytes (2 maxBytes with a reference) whatever the file's size, and a
 * large file makes no garbage.
 * A file that grows meanwhile is still read to its end.
 */
export async function* chunkFile(path: string, options: ChunkFileOptions = {}): AsyncGenerator<Chunk> {
  for await (const { offset, length, hash } of chunkFileBytes(path, options)) yield { offset, length, hash };
}

export interface ChunkFileOptions {
  readonly limits?: ChunkLimits;
  /** Bytes per read: 8 MiB unless tests say otherwise. */
  readonly readBytes?: number;
  /** The blocks of the file's previous version, kept where their bytes still occur (Cutter). */
  readonly reference?: readonly ReferenceBlock[];
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
  options: ChunkFileOptions = {},
): AsyncGenerator<ChunkBytes> {
  const { limits = DEFAULT_CHUNK_LIMITS, readBytes = READ_BUFFER_BYTES, reference } = options;
  const cutter = new Cutter(limits, reference);
  const handle = await open(path, 'r');
  try {
    const most = readBytes + cutter.lookahead;
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
      while (start < end && (final || end - start >= cutter.lookahead)) {
        const { length, hash } = cutter.next(buffer, start, end, offset - start, final);
        const bytes = buffer.subarray(start, start + length);
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

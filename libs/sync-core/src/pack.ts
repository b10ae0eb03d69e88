import { createHash, randomBytes, type Hash } from 'node:crypto';
import { LIMITS } from '@filesync/resources';
import { isBlockHash } from './content-hash';

/**
 * The pack format: many blocks in one storage object, so a folder of small files costs a few
 * PUTs instead of one per file (the idea of restic's and Kopia's packs, our own layout).
 *
 *   data:    block 0 bytes | block 1 bytes | ...            (no gaps, in entry order)
 *   trailer: per block: 32-byte raw SHA-256, u32 big-endian length
 *            16 random bytes (the nonce)
 *            u32 big-endian block count
 *            8-byte magic "FSPACK01"
 *
 * The block index in DynamoDB is the source of truth for where a block lives; the trailer makes a
 * pack self-describing, so the index can be rebuilt from storage alone and a collector can check
 * a pack before rewriting it. A pack's id is the lowercase hex SHA-256 of the whole object.
 *
 * The nonce makes every pack written a new object, even with the same blocks: a pack id is never
 * reused, so a writer can never take an old object (one the collector is about to delete as an
 * orphan or as unused) for the pack it meant to store. Retrying the same upload writes anew.
 */
export const PACK_MAGIC = Buffer.from('FSPACK01', 'ascii');
const ENTRY_BYTES = 32 + 4;
const NONCE_BYTES = 16;
const FOOTER_BYTES = NONCE_BYTES + 4 + PACK_MAGIC.length;

/** One block of a pack: its hash and where its bytes sit in the pack (bytes from the start). */
export interface PackEntry {
  readonly hash: string;
  readonly offset: number;
  readonly length: number;
}

export interface BuiltPack {
  /** Lowercase hex SHA-256 of the whole object. */
  readonly packId: string;
  /** The object's bytes, as the parts to send in order (no copy into one buffer). */
  readonly parts: readonly Uint8Array[];
  /** Object size in bytes, trailer included. */
  readonly size: number;
  readonly entries: readonly PackEntry[];
}

export class PackFormatError extends Error {
  override name = 'PackFormatError';
}

/** Bytes of the trailer of a pack with `blocks` blocks. */
export function packTrailerBytes(blocks: number): number {
  return blocks * ENTRY_BYTES + FOOTER_BYTES;
}

/**
 * Collects blocks into one pack. The caller decides when a pack is full (see `wouldExceed`);
 * a block is added whole and never split. Holds references to the added buffers until `finish`.
 */
export class PackBuilder {
  private readonly parts: Uint8Array[] = [];
  private readonly entries: PackEntry[] = [];
  private readonly digest: Hash = createHash('sha256');
  private dataBytes = 0;

  constructor(
    private readonly targetBytes: number = LIMITS.packTargetBytes,
    private readonly maxBlocks: number = LIMITS.maxBlocksPerPack,
  ) {}

  get blockCount(): number {
    return this.entries.length;
  }

  /** Data bytes added so far (trailer excluded). */
  get bytes(): number {
    return this.dataBytes;
  }

  /** True when adding a block of `length` bytes would take a non-empty pack past its target. */
  wouldExceed(length: number): boolean {
    if (this.entries.length === 0) return false;
    return this.entries.length >= this.maxBlocks || this.dataBytes + length > this.targetBytes;
  }

  /** Adds a block; `hash` must be the lowercase hex SHA-256 of `bytes` (the caller hashed it). */
  add(hash: string, bytes: Uint8Array): PackEntry {
    if (!isBlockHash(hash)) throw new PackFormatError(`not a block hash: ${JSON.stringify(hash)}`);
    if (bytes.byteLength === 0 || bytes.byteLength > LIMITS.chunkMaxBytes)
      throw new PackFormatError(`block ${hash}: ${bytes.byteLength} bytes is not a block size`);
    const entry = { hash, offset: this.dataBytes, length: bytes.byteLength };
    this.parts.push(bytes);
    this.entries.push(entry);
    this.digest.update(bytes);
    this.dataBytes += bytes.byteLength;
    return entry;
  }

  /** Appends the trailer and names the pack. The builder must not be used afterwards. */
  finish(): BuiltPack {
    if (this.entries.length === 0) throw new PackFormatError('an empty pack is not written');
    const trailer = encodeTrailer(this.entries);
    this.digest.update(trailer);
    return {
      packId: this.digest.digest('hex'),
      parts: [...this.parts, trailer],
      size: this.dataBytes + trailer.byteLength,
      entries: this.entries,
    };
  }
}

function encodeTrailer(entries: readonly PackEntry[]): Buffer {
  const trailer = Buffer.alloc(packTrailerBytes(entries.length));
  let at = 0;
  for (const entry of entries) {
    trailer.write(entry.hash, at, 'hex');
    trailer.writeUInt32BE(entry.length, at + 32);
    at += ENTRY_BYTES;
  }
  randomBytes(NONCE_BYTES).copy(trailer, at);
  at += NONCE_BYTES;
  trailer.writeUInt32BE(entries.length, at);
  PACK_MAGIC.copy(trailer, at + 4);
  return trailer;
}

/** Block count of a pack from its last 28 bytes (read those first to know the trailer's size). */
export function packFooterBlockCount(footer: Uint8Array): number {
  const bytes = Buffer.from(footer.buffer, footer.byteOffset, footer.byteLength);
  if (bytes.byteLength < FOOTER_BYTES) throw new PackFormatError('pack footer too short');
  const tail = bytes.subarray(bytes.byteLength - 4 - PACK_MAGIC.length);
  if (!tail.subarray(4).equals(PACK_MAGIC)) throw new PackFormatError('not a pack: bad magic');
  return tail.readUInt32BE(0);
}

/**
 * The entries of a pack from its trailer. `tail` is the end of the object, at least
 * packTrailerBytes(count) long; `size` the object's size.
 */
export function readPackTrailer(tail: Uint8Array, size: number): PackEntry[] {
  const count = packFooterBlockCount(tail);
  const trailerBytes = packTrailerBytes(count);
  if (tail.byteLength < trailerBytes || size < trailerBytes)
    throw new PackFormatError('pack trailer truncated');
  const bytes = Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength);
  const start = bytes.byteLength - trailerBytes;
  const entries: PackEntry[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const at = start + i * ENTRY_BYTES;
    const length = bytes.readUInt32BE(at + 32);
    entries.push({ hash: bytes.toString('hex', at, at + 32), offset, length });
    offset += length;
  }
  if (offset !== size - trailerBytes) throw new PackFormatError('pack trailer does not match its size');
  return entries;
}

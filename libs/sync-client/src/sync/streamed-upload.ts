import { LIMITS } from '@filesync/resources';
import { PackBuilder, type ReferenceBlock } from '@filesync/sync-core';
import type { FileHash, Hasher } from '../hashing/hash-file';
import type { HashedSegment, SegmentBuffers, SegmentLayout } from '../hashing/hash-segments';
import { PackRegistrar } from './pack-registrar';
import type { PackRecord, SyncRemote } from './remote';
import { BufferPool, PACK_BUFFERS, packBufferBytes } from './pack-buffers';
import type { PackUploadDeps } from './uploader';

/**
 * Files from this size on are uploaded while they are hashed (see UploadingHasher): below it
 * the file's blocks are better packed together with other files' after the diff.
 */
export const STREAMED_UPLOAD_MIN_BYTES = 4 * LIMITS.packTargetBytes;

export interface StreamedUploadDeps extends PackUploadDeps {
  readonly remote: Pick<SyncRemote, 'registerPacks' | 'findMissingBlocks'>;
  /** Buffers of one file's upload when `pool` is not given; default PACK_BUFFERS (at least 2). */
  readonly buffers?: number;
}

/**
 * Uploads one file's blocks as its hasher emits them (hashFileInSegments): per segment, asks the
 * server which of its blocks storage lacks (each hash once per file), packs those in the
 * segment's own buffer (no copy unless a block is skipped) and PUTs the pack while the hasher
 * fills the next buffer; stored packs are registered as they land. The bytes sent are the very
 * bytes that were hashed, so every uploaded block matches the hash a commit names.
 *
 * Best effort by design: a block that could not be stored or registered here is simply still
 * missing when the commit path asks (startUploads), which uploads it then from the file, with
 * its usual check. Nothing here throws.
 */
export class StreamedUpload {
  /** What the hasher takes its buffers from: the pass's pool (PackUploadDeps.pool), lent. */
  readonly buffers: SegmentBuffers;
  readonly layout: SegmentLayout;
  private readonly pool: BufferPool;
  /** Buffers taken from the pool and not yet given back. */
  private lent = 0;
  /** Set by `finished`: buffers given back later were already forgotten. */
  private done = false;
  /** Milliseconds the hasher waited for a buffer (the uploads were the slower side). */
  waitedMs = 0;
  private readonly seen = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly registrar: PackRegistrar;
  /** First failure, if any (for the log). */
  failure: unknown;
  /** Packs stored and block bytes in them. */
  packs = 0;
  bytes = 0;

  constructor(private readonly deps: StreamedUploadDeps) {
    const targetBytes = deps.packTargetBytes ?? LIMITS.packTargetBytes;
    this.layout = { targetBytes, maxBlocks: LIMITS.maxBlocksPerPack };
    this.pool =
      deps.buffers === undefined && deps.pool && deps.pool.bytes >= packBufferBytes(targetBytes)
        ? deps.pool
        : new BufferPool(Math.max(2, deps.buffers ?? PACK_BUFFERS), packBufferBytes(targetBytes));
    this.buffers = {
      take: async () => {
        this.lent++;
        const since = Date.now();
        const buffer = await this.pool.take();
        this.waitedMs += Date.now() - since;
        return buffer;
      },
      give: (buffer) => this.giveBack(buffer),
    };
    this.registrar = new PackRegistrar(deps.remote, deps.namespaceId, (_packs, failure) => {
      if (failure !== undefined) this.fail(failure);
    });
  }

  /**
   * Takes a segment (and its buffer) from the hasher. The server is asked about its blocks at
   * once (several segments' questions may be in flight); segments are packed in the order given.
   */
  add(segment: HashedSegment): void {
    const fresh = [...new Set(segment.blocks.map((block) => block.hash))].filter(
      (hash) => !this.seen.has(hash),
    );
    for (const hash of fresh) this.seen.add(hash);
    const missing =
      fresh.length > 0
        ? this.deps.remote.findMissingBlocks(this.deps.namespaceId, fresh)
        : Promise.resolve([] as string[]);
    missing.catch(() => undefined);
    this.chain = this.chain.then(() => this.pack(segment, missing));
  }

  /** Resolves once every segment added so far is stored and registered, or failed. Never rejects. */
  async finished(): Promise<void> {
    await this.chain;
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    await this.registrar.drained();
    // What is still out was lent to a hasher that failed and never gave it back: the pool may
    // make as many anew (and drops such a buffer if it turns up after all: BufferPool.give).
    this.pool.forget(this.lent);
    this.lent = 0;
    this.done = true;
  }

  private giveBack(buffer: ArrayBufferLike): void {
    if (!this.done) this.lent--;
    this.pool.give(buffer);
  }

  private async pack(segment: HashedSegment, asked: Promise<string[]>): Promise<void> {
    const bytes = Buffer.from(segment.buffer);
    let missing: Set<string>;
    try {
      missing = new Set(await asked);
    } catch (error) {
      this.fail(error);
      this.giveBack(segment.buffer);
      return;
    }
    const builder = new PackBuilder(this.layout.targetBytes);
    let at = 0;
    for (const block of segment.blocks) {
      if (missing.delete(block.hash)) {
        // Blocks before this one are not sent: move it down over them.
        const to = builder.bytes;
        if (to !== at) bytes.copyWithin(to, at, at + block.length);
        builder.add(block.hash, bytes.subarray(to, to + block.length));
      }
      at += block.length;
    }
    if (builder.blockCount === 0) {
      this.giveBack(segment.buffer);
      return;
    }
    const built = builder.finish();
    bytes.set(built.parts[built.parts.length - 1]!, builder.bytes);
    const record: PackRecord = { packId: built.packId, size: built.size, blocks: built.entries };
    const put = this.put(record, bytes.subarray(0, built.size)).finally(() => {
      this.inFlight.delete(put);
      this.giveBack(segment.buffer);
    });
    this.inFlight.add(put);
  }

  private async put(record: PackRecord, body: Uint8Array): Promise<void> {
    let outcome: 'uploaded' | 'exists';
    try {
      outcome = await this.deps.blocks.putPack(this.deps.namespaceId, record.packId, body);
    } catch (error) {
      this.fail(error);
      return;
    }
    const bytes = record.blocks.reduce((sum, block) => sum + block.length, 0);
    this.packs++;
    this.bytes += bytes;
    this.deps.onPackStored?.({ blocks: record.blocks.length, bytes, outcome });
    this.registrar.add(record);
  }

  private fail(error: unknown): void {
    this.failure ??= error ?? new Error('streamed upload failed');
  }
}

/**
 * A Hasher that uploads big files while it hashes them: a file of at least `minBytes` whose
 * hasher can emit segments is hashed through a StreamedUpload, and `hash` resolves only once its
 * blocks are stored and registered (or failed), so the commit path finds them stored and does
 * not read the file again. One file streams at a time (the memory ceiling is one pool); another
 * big file meanwhile is only hashed and uploads after the diff as usual. Every other call goes to
 * `inner` unchanged.
 */
/** How one file's streamed upload went (for the debug log). */
export interface StreamedUploadReport {
  readonly ms: number;
  readonly packs: number;
  /** Block bytes stored. */
  readonly bytes: number;
  /** Time the hasher waited for a free buffer: above zero, storage was the slower side. */
  readonly bufferWaitMs: number;
  /** The first thing that failed; its blocks upload after the diff. */
  readonly failure?: unknown;
}

export class UploadingHasher implements Hasher {
  private streaming = false;

  constructor(
    private readonly inner: Hasher,
    private readonly deps: StreamedUploadDeps,
    private readonly minBytes: number = STREAMED_UPLOAD_MIN_BYTES,
    private readonly onStreamed?: (path: string, report: StreamedUploadReport) => void,
  ) {}

  async hash(path: string, size: number, reference?: readonly ReferenceBlock[]): Promise<FileHash> {
    if (size < this.minBytes || this.streaming || !this.inner.hashInSegments)
      return this.inner.hash(path, size, reference);
    this.streaming = true;
    const started = Date.now();
    const upload = new StreamedUpload(this.deps);
    try {
      return await this.inner.hashInSegments(
        path,
        size,
        upload.layout,
        upload.buffers,
        (segment) => upload.add(segment),
        reference,
      );
    } finally {
      await upload.finished();
      this.streaming = false;
      this.onStreamed?.(path, {
        ms: Date.now() - started,
        packs: upload.packs,
        bytes: upload.bytes,
        bufferWaitMs: upload.waitedMs,
        ...(upload.failure === undefined ? {} : { failure: upload.failure }),
      });
    }
  }

  /** Nothing to release: `inner` stays its owner's to close. */
  async close(): Promise<void> {}
}

import { open, type FileHandle } from 'node:fs/promises';
import { LIMITS } from '@filesync/resources';
import { blockHash, PackBuilder, packTrailerBytes } from '@filesync/sync-core';
import { BufferPool, PACK_PUT_CONCURRENCY, packBufferBytes } from './pack-buffers';
import type { BlockRef } from '../state/state-db';
import type { BlockStore } from '../storage/block-store';
import { PackRegistrar } from './pack-registrar';
import type { PackRecord, SyncRemote } from './remote';

/**
 * Block bytes of the first pack; each next pack may hold twice as many, up to packTargetBytes.
 * Commits wait for their blocks' pack to be stored and registered, so a small first pack lets
 * the first commits start while the bulk still uploads (a full first pack of small files is
 * about 2,000 blocks to register before anything can commit).
 */
export const FIRST_PACK_BYTES = 1024 * 1024;

/** A local file and the blocks of it to upload. */
export interface PackSource {
  readonly absPath: string;
  /** Read back from the file at their offsets and checked against their hash before packing. */
  readonly blocks: readonly BlockRef[];
}

/** One pack written to storage (reported before it is registered). */
export interface StoredPack {
  readonly blocks: number;
  /** Block bytes in the pack (trailer excluded): each uploaded byte is counted in one pack only. */
  readonly bytes: number;
  /** 'exists': storage already held this very pack (same id, same bytes); nothing was sent. */
  readonly outcome: 'uploaded' | 'exists';
}

export interface PackUploadDeps {
  readonly namespaceId: string;
  readonly blocks: Pick<BlockStore, 'putPack'>;
  readonly remote: Pick<SyncRemote, 'registerPacks'>;
  readonly onPackStored?: (pack: StoredPack) => void;
  /** Pack PUTs in flight at once; default PACK_PUT_CONCURRENCY. */
  readonly putConcurrency?: number;
  /** Block bytes per pack before it is sealed; default LIMITS.packTargetBytes. */
  readonly packTargetBytes?: number;
  /**
   * The pass's pack buffers, shared by every upload of the pass (see BufferPool); one of its
   * own, of putConcurrency + 1 buffers, when absent or its buffers are too small for a pack.
   */
  readonly pool?: BufferPool;
  /**
   * Stops reading at the next block: blocks not packed yet are settled with the signal's reason
   * (their commits fail); packs already sealed are still stored and registered.
   */
  readonly signal?: AbortSignal;
}

/**
 * Uploads blocks in packs and registers them: the sources are read in the given order (the
 * commit order, smallest files first), each distinct hash once, from the first source naming
 * it; blocks fill a pack of about `packTargetBytes`, full packs are PUT a few at a time while
 * the next one fills, and stored packs are registered with the server (RegisterPacks) in
 * batches as they land. Reading stalls while every PUT slot is busy, so memory stays bounded.
 *
 * Returns, per hash, a promise that resolves once the block is registered (a commit naming it
 * then succeeds) and rejects with the reason it could not be (the file changed since it was
 * hashed, storage or the server refused). Never throws; the returned promises are pre-handled,
 * so an ignored failure is not an unhandled rejection.
 */
export function uploadPacks(
  sources: readonly PackSource[],
  deps: PackUploadDeps,
): Map<string, Promise<void>> {
  const waiting = new Map<string, Waiter>();
  const plan: PackSource[] = [];
  for (const source of sources) {
    const fresh = source.blocks.filter((ref) => !waiting.has(ref.hash) && waiting.set(ref.hash, waiter()));
    if (fresh.length > 0) plan.push({ absPath: source.absPath, blocks: fresh });
  }
  const registered = new Map([...waiting].map(([hash, w]) => [hash, w.promise]));
  void new PackPipeline(deps, waiting).run(plan);
  return registered;
}

interface Waiter {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

class PackPipeline {
  private builder: PackBuilder;
  private readonly targetBytes: number;
  /** Block bytes the pack being filled may hold: doubles from FIRST_PACK_BYTES to targetBytes. */
  private packBytes: number;
  private readonly concurrency: number;
  /**
   * Pack buffers, one per PUT slot and one being filled, taken from the pass's pool: blocks are
   * read straight into the pack they go to and the trailer written after them, so a pack costs
   * no copy and memory stays at (concurrency + 1) buffers however many bytes go through.
   */
  private readonly pool: BufferPool;
  private buffer: Buffer;
  /** Whether `buffer` is the pool's (a small upload gets a buffer of its own size instead). */
  private pooled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly registrar: PackRegistrar;

  constructor(
    private readonly deps: PackUploadDeps,
    private readonly waiting: Map<string, Waiter>,
  ) {
    this.targetBytes = deps.packTargetBytes ?? LIMITS.packTargetBytes;
    this.concurrency = Math.max(1, deps.putConcurrency ?? PACK_PUT_CONCURRENCY);
    this.packBytes = Math.min(this.targetBytes, FIRST_PACK_BYTES);
    this.builder = new PackBuilder(this.packBytes);
    const bytes = packBufferBytes(this.targetBytes);
    this.pool =
      deps.pool && deps.pool.bytes >= bytes ? deps.pool : new BufferPool(this.concurrency + 1, bytes);
    this.buffer = Buffer.allocUnsafe(0);
    this.registrar = new PackRegistrar(deps.remote, deps.namespaceId, (packs, failure) => {
      for (const pack of packs) for (const block of pack.blocks) this.settle(block.hash, failure);
    });
  }

  async run(plan: readonly PackSource[]): Promise<void> {
    try {
      // Sized to what is to be sent: a few small files do not cost a full pack buffer.
      const total = plan.reduce(
        (sum, source) => sum + source.blocks.reduce((n, ref) => n + ref.length, 0),
        0,
      );
      const small = total + packTrailerBytes(this.waiting.size);
      if (small < this.pool.bytes) this.buffer = Buffer.allocUnsafe(small);
      else await this.takeBuffer();
      for (const source of plan) await this.readSource(source);
      if (this.builder.blockCount > 0) await this.seal(false);
      while (this.inFlight.size > 0) await Promise.race(this.inFlight);
      await this.registrar.drained();
    } catch (error) {
      // Not expected (every step settles its own blocks); whatever is left must not hang a commit.
      for (const hash of [...this.waiting.keys()]) this.settle(hash, error);
    } finally {
      this.releaseBuffer();
    }
  }

  private async takeBuffer(): Promise<void> {
    const buffer = await this.pool.take();
    this.buffer = Buffer.from(buffer);
    this.pooled = true;
  }

  private releaseBuffer(): void {
    if (this.pooled) this.pool.give(this.buffer.buffer);
    this.pooled = false;
    this.buffer = Buffer.allocUnsafe(0);
  }

  private async readSource(source: PackSource): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(source.absPath, 'r');
    } catch (error) {
      for (const ref of source.blocks) this.settle(ref.hash, error);
      return;
    }
    try {
      for (const ref of source.blocks) {
        if (this.deps.signal?.aborted) {
          this.settle(ref.hash, this.deps.signal.reason);
          continue;
        }
        if (this.builder.wouldExceed(ref.length)) await this.seal();
        // Read right after the pack's blocks: one that fails its check is overwritten by the next.
        const at = this.builder.bytes;
        const into = this.buffer.subarray(at, at + ref.length);
        try {
          if (into.byteLength !== ref.length) throw new Error(`block of ${ref.length} bytes is too large`);
          await readFully(handle, ref, into);
        } catch (error) {
          this.settle(ref.hash, error);
          continue;
        }
        // Only bytes that are still the block that was hashed reach the pack. On the main thread,
        // where the bytes lie: Web Crypto's digest (on the thread pool) refuses views of shared
        // memory, which the pass's pack buffers are (BufferPool), and hashing a copy would
        // allocate one per block. At about 1 GB/s a 4 MiB block takes 4 ms.
        if (blockHash(into) === ref.hash) this.builder.add(ref.hash, into);
        else this.settle(ref.hash, new Error('file changed since it was scanned; it syncs next time'));
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * Finishes the current pack and starts its PUT; with `next`, waits for a free buffer to fill
   * the next one.
   */
  private async seal(next = true): Promise<void> {
    const built = this.builder.finish();
    const trailer = built.parts[built.parts.length - 1]!;
    this.buffer.set(trailer, this.builder.bytes);
    const body = this.buffer.subarray(0, built.size);
    const record: PackRecord = { packId: built.packId, size: built.size, blocks: built.entries };
    const pooled = this.pooled;
    const buffer = this.buffer.buffer;
    const put = this.put(record, body).finally(() => {
      this.inFlight.delete(put);
      if (pooled) this.pool.give(buffer);
    });
    this.inFlight.add(put);
    this.pooled = false;
    this.buffer = Buffer.allocUnsafe(0);
    this.packBytes = Math.min(this.targetBytes, this.packBytes * 2);
    this.builder = new PackBuilder(this.packBytes);
    if (!next) return;
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    await this.takeBuffer();
  }

  private async put(record: PackRecord, body: Uint8Array): Promise<void> {
    let outcome: 'uploaded' | 'exists';
    try {
      outcome = await this.deps.blocks.putPack(this.deps.namespaceId, record.packId, body);
    } catch (error) {
      for (const block of record.blocks) this.settle(block.hash, error);
      return;
    }
    const bytes = record.blocks.reduce((sum, block) => sum + block.length, 0);
    this.deps.onPackStored?.({ blocks: record.blocks.length, bytes, outcome });
    this.registrar.add(record);
  }

  /** Resolves a block's promise, or rejects it with `error`. */
  private settle(hash: string, error?: unknown): void {
    const pending = this.waiting.get(hash);
    if (!pending) return;
    this.waiting.delete(hash);
    if (error === undefined) pending.resolve();
    else pending.reject(error);
  }
}

/** Reads one block back from its file; a file now too short to hold it has changed. */
async function readFully(handle: FileHandle, ref: BlockRef, bytes: Buffer): Promise<void> {
  let read = 0;
  while (read < ref.length) {
    const { bytesRead } = await handle.read(bytes, read, ref.length - read, ref.offset + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  if (read !== ref.length) throw new Error('file changed since it was scanned; it syncs next time');
}

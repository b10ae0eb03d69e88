import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import { LIMITS } from '@filesync/resources';
import { blockHash } from '@filesync/sync-core';
import { BlockIntegrityError, StorageObjectGoneError, type BlockStore } from '../storage/block-store';
import { BufferPool } from './pack-buffers';
import type { BlockLocation, SyncRemote } from './remote';

/** One file to download: its blocks in file order. */
export interface DownloadFile {
  readonly path: string;
  /** Bytes the server says the file has. */
  readonly size: number;
  readonly blockHashes: readonly string[];
}

/** The blocks of one file, in order: `block(i)` resolves to block i's verified bytes. */
export interface BlockSource {
  block(index: number): Promise<Uint8Array>;
  /** After block(i) resolved: its bytes came from this device, not from storage. */
  fromLocal?(index: number): boolean;
}

/**
 * Blocks this device holds already (LocalBlocks): a large download reads them instead of fetching
 * them, so a big file edited elsewhere costs only its changed blocks.
 */
export interface LocalBlockReader {
  has(hash: string): boolean;
  /** The block's bytes, verified against `hash`; undefined when the local copy changed or is gone. */
  read(hash: string): Promise<Uint8Array | undefined>;
}

/** What the caller does with each file: write it from its blocks, or learn why it cannot be. */
export interface DownloadSink<F extends DownloadFile> {
  /** Writes the file; a rejection of `source` fails this file only. */
  write(file: F, source: BlockSource): Promise<void>;
  /** The file's blocks could not be had (missing on the server, corrupt twice, storage down). */
  fail(file: F, error: Error): void;
}

export interface DownloaderOptions {
  /** Ranged GETs (or whole-object GETs of legacy blocks) in flight at once. */
  readonly transfers?: LimitFunction;
  /** Files being written at once. */
  readonly fileConcurrency?: number;
  /** Files at most this large are fetched in batches, packed ranges coalesced; larger ones stream. Bytes. */
  readonly smallFileBytes?: number;
  /** Bytes of small files fetched per batch: bounds memory to about two batches. */
  readonly batchBytes?: number;
  /** Unneeded bytes between two wanted ranges of a pack read through rather than split. */
  readonly maxGapBytes?: number;
  /** Longest coalesced ranged read. Bytes. */
  readonly maxRangeBytes?: number;
  /** Blocks of a large file fetched ahead of the one being written. */
  readonly windowBlocks?: number;
  /** Called once per storage read (a ranged GET of a pack, a GET of a legacy block). */
  readonly onRequest?: () => void;
  /** Blocks of large files read from this device when it still holds them (verified). */
  readonly local?: LocalBlockReader;
  /**
   * Stops the download at the next batch of small files or block of a large one: files not
   * written yet are left alone (never half-written: the sink writes atomically), a large file
   * being written fails with the signal's reason.
   */
  readonly signal?: AbortSignal;
  /** Where the time goes, at debug level. */
  readonly logger?: Pick<Logger, 'debug'>;
}

const DEFAULTS = {
  fileConcurrency: 16,
  smallFileBytes: LIMITS.chunkMaxBytes,
  batchBytes: 8 * 1024 * 1024,
  maxGapBytes: 256 * 1024,
  maxRangeBytes: 4 * 1024 * 1024,
  windowBlocks: 4,
  transfers: 8,
};

/** A block the server does not hold (LocateBlocks listed it missing). */
export class BlockMissingError extends Error {
  override name = 'BlockMissingError';
}

/** One coalesced ranged read of a pack: the blocks it covers, in offset order. */
export interface PackRange {
  readonly packId: string;
  readonly offset: number;
  readonly length: number;
  readonly blocks: readonly BlockLocation[];
}

/**
 * Groups packed block locations into as few ranged reads as possible: per pack, in offset order,
 * a block joins the previous range when the gap to it is at most `maxGapBytes` (read through and
 * dropped) and the range stays within `maxRangeBytes` (a block longer than that is a range of its
 * own). Duplicate hashes are read once. Legacy locations (empty pack id) are not ranges: skipped.
 */
export function coalesceRanges(
  locations: readonly BlockLocation[],
  maxGapBytes: number = DEFAULTS.maxGapBytes,
  maxRangeBytes: number = DEFAULTS.maxRangeBytes,
): PackRange[] {
  const byPack = new Map<string, BlockLocation[]>();
  const seen = new Set<string>();
  for (const location of locations) {
    if (location.packId === '' || seen.has(location.hash)) continue;
    seen.add(location.hash);
    let list = byPack.get(location.packId);
    if (!list) byPack.set(location.packId, (list = []));
    list.push(location);
  }
  const ranges: PackRange[] = [];
  for (const [packId, list] of byPack) {
    list.sort((a, b) => a.offset - b.offset);
    let current: { offset: number; end: number; blocks: BlockLocation[] } | undefined;
    for (const block of list) {
      const end = block.offset + block.length;
      if (
        current &&
        block.offset - current.end <= maxGapBytes &&
        Math.max(end, current.end) - current.offset <= maxRangeBytes
      ) {
        current.blocks.push(block);
        current.end = Math.max(current.end, end);
        continue;
      }
      if (current)
        ranges.push({
          packId,
          offset: current.offset,
          length: current.end - current.offset,
          blocks: current.blocks,
        });
      current = { offset: block.offset, end, blocks: [block] };
    }
    if (current)
      ranges.push({
        packId,
        offset: current.offset,
        length: current.end - current.offset,
        blocks: current.blocks,
      });
  }
  return ranges;
}

type Fetched = Uint8Array | Error;

/**
 * Where the ranged reads of one batch of small files land: consecutive slices of one buffer,
 * until it is full (later ranges then get buffers of their own). The buffer goes back to its
 * pool once the batch is written: the reads of a whole download reuse two buffers instead of
 * allocating one per range, which left the main heap fragmented (about 90 MiB for a 100,000-file
 * download).
 */
class RangeArena {
  private used = 0;
  constructor(private readonly bytes: Uint8Array) {}

  take(length: number): Uint8Array | undefined {
    if (this.used + length > this.bytes.byteLength) return undefined;
    const slice = this.bytes.subarray(this.used, this.used + length);
    this.used += length;
    return slice;
  }
}

/**
 * Fetches the blocks of the files a pass downloads and hands each file its verified blocks.
 *
 * Blocks are located with LocateBlocks (at most LIMITS.maxBlockHashesPerQuery hashes a call).
 * Small files are sorted by where their first block lives and fetched in batches of about
 * `batchBytes`: the blocks of one pack are read with ranged GETs, adjacent ranges coalesced,
 * several packs at once, the next batch fetched while the current one is written. Large files
 * stream block by block with a look-ahead window, so memory stays bounded whatever their size.
 *
 * Every block's SHA-256 is checked before anyone sees it; a mismatch is read again once, then the
 * block fails (and with it each file that needs it). A pack gone or shorter than asked (404, 416:
 * the collector rewrote it) makes the blocks be located again once.
 */
export class Downloader {
  private readonly transfers: LimitFunction;
  private readonly options: Required<
    Omit<DownloaderOptions, 'transfers' | 'onRequest' | 'logger' | 'local' | 'signal'>
  >;
  private readonly local: LocalBlockReader | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onRequest: () => void;
  private readonly logger: Pick<Logger, 'debug'> | undefined;
  /** One string per pack id, shared by every location in it. */
  private readonly packIds = new Map<string, string>();

  constructor(
    private readonly namespaceId: string,
    private readonly blocks: Pick<BlockStore, 'get' | 'getRange'>,
    private readonly remote: Pick<SyncRemote, 'locateBlocks'>,
    options: DownloaderOptions = {},
  ) {
    this.transfers = options.transfers ?? pLimit(DEFAULTS.transfers);
    this.onRequest = options.onRequest ?? (() => undefined);
    this.logger = options.logger;
    this.local = options.local;
    this.signal = options.signal;
    this.options = {
      fileConcurrency: options.fileConcurrency ?? DEFAULTS.fileConcurrency,
      smallFileBytes: options.smallFileBytes ?? DEFAULTS.smallFileBytes,
      batchBytes: options.batchBytes ?? DEFAULTS.batchBytes,
      maxGapBytes: options.maxGapBytes ?? DEFAULTS.maxGapBytes,
      maxRangeBytes: options.maxRangeBytes ?? DEFAULTS.maxRangeBytes,
      windowBlocks: options.windowBlocks ?? DEFAULTS.windowBlocks,
    };
  }

  /** Downloads every file through `sink`; per-file failures go to `sink.fail`, never thrown. */
  async run<F extends DownloadFile>(files: readonly F[], sink: DownloadSink<F>): Promise<void> {
    const small = files.filter((file) => file.size <= this.options.smallFileBytes);
    const large = files.filter((file) => file.size > this.options.smallFileBytes);
    await this.runSmall(small, sink);
    const writers = pLimit(2);
    await Promise.all(
      large.map((file) =>
        writers(async () => (this.signal?.aborted ? undefined : this.runLarge(file, sink))),
      ),
    );
  }

  // ---- small files: batched, ranges coalesced ----

  private async runSmall<F extends DownloadFile>(files: readonly F[], sink: DownloadSink<F>): Promise<void> {
    if (files.length === 0) return;
    let where: Map<string, BlockLocation | Error>;
    const locating = Date.now();
    try {
      where = await this.locate(unique(files.flatMap((file) => file.blockHashes)));
    } catch (error) {
      for (const file of files) sink.fail(file, asError(error));
      return;
    }
    this.logger?.debug({ blocks: where.size, ms: Date.now() - locating }, 'blocks located');
    // Files whose blocks sit together in storage are fetched together: sorted by where their
    // first block is (keys in flat arrays: no key object per file for a 100,000-file download).
    const packOf: string[] = [];
    const offsetOf = new Float64Array(files.length);
    files.forEach((file, index) => {
      const first = file.blockHashes[0] === undefined ? undefined : where.get(file.blockHashes[0]);
      const located = first && !(first instanceof Error) ? first : undefined;
      packOf.push(located?.packId ?? '');
      offsetOf[index] = located?.offset ?? 0;
    });
    const ordered = Array.from(files.keys())
      .sort((a, b) =>
        packOf[a]! < packOf[b]! ? -1 : packOf[a]! > packOf[b]! ? 1 : offsetOf[a]! - offsetOf[b]!,
      )
      .map((index) => files[index]!);
    packOf.length = 0;
    const batches: F[][] = [];
    let batch: F[] = [];
    let bytes = 0;
    for (const file of ordered) {
      if (batch.length > 0 && bytes + file.size > this.options.batchBytes) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(file);
      bytes += file.size;
    }
    if (batch.length > 0) batches.push(batch);

    // Two batches are in memory at once (one written, the next fetched): two arenas. A batch's
    // ranges hold its files' bytes and the gaps read through, so an arena has room for both.
    const arenas = new BufferPool(
      2,
      this.options.batchBytes + 4 * this.options.maxGapBytes + LIMITS.chunkMaxBytes,
    );
    const fetchBatch = async (files: F[]) => {
      const buffer = await arenas.take();
      const arena = new RangeArena(new Uint8Array(buffer));
      const locations: BlockLocation[] = [];
      const fetched = new Map<string, Fetched>();
      for (const hash of unique(files.flatMap((file) => file.blockHashes))) {
        const location = where.get(hash);
        if (location === undefined) fetched.set(hash, new BlockMissingError(`block ${hash} was not located`));
        else if (location instanceof Error) fetched.set(hash, location);
        else locations.push(location);
      }
      await this.fetchAll(locations, fetched, true, arena);
      return { fetched, buffer };
    };
    const writers = pLimit(this.options.fileConcurrency);
    let next = batches.length > 0 ? fetchBatch(batches[0]!) : undefined;
    let waitedMs = 0;
    const writing = Date.now();
    for (let i = 0; i < batches.length; i++) {
      const waiting = Date.now();
      const { fetched, buffer } = await next!;
      waitedMs += Date.now() - waiting;
      if (this.signal?.aborted) {
        arenas.give(buffer);
        break;
      }
      // The next batch comes in while this one is written: two batches in memory at most.
      next = i + 1 < batches.length ? fetchBatch(batches[i + 1]!) : undefined;
      await Promise.all(
        batches[i]!.map((file) =>
          writers(async () => {
            const failed = file.blockHashes
              .map((hash) => fetched.get(hash))
              .find((got) => !(got instanceof Uint8Array));
            if (failed !== undefined) {
              sink.fail(file, failed instanceof Error ? failed : new Error('block not fetched'));
              return;
            }
            await sink.write(file, {
              block: async (index) => fetched.get(file.blockHashes[index]!) as Uint8Array,
            });
          }),
        ),
      );
      // Every file of the batch is written: nothing reads its blocks (views of the arena) again.
      fetched.clear();
      arenas.give(buffer);
    }
    this.logger?.debug(
      {
        files: files.length,
        batches: batches.length,
        ms: Date.now() - writing,
        waitingForStorageMs: waitedMs,
      },
      'small files downloaded',
    );
  }

  // ---- large files: streamed through a window ----

  private async runLarge<F extends DownloadFile>(file: F, sink: DownloadSink<F>): Promise<void> {
    const local = this.local;
    const isLocal = (hash: string) => local?.has(hash) === true;
    let where: Map<string, BlockLocation | Error>;
    try {
      // Blocks this device holds are not even located: most of an edited big file.
      where = await this.locate(unique(file.blockHashes.filter((hash) => !isLocal(hash))));
    } catch (error) {
      sink.fail(file, asError(error));
      return;
    }
    const missing = file.blockHashes.map((hash) => where.get(hash)).find((got) => got instanceof Error);
    if (missing instanceof Error) {
      sink.fail(file, missing);
      return;
    }
    const fromStorage = async (hash: string): Promise<Uint8Array> => {
      // A local copy that changed since the scan: located only now.
      if (!where.has(hash)) for (const [found, got] of await this.locate([hash])) where.set(found, got);
      const location = where.get(hash);
      if (location === undefined || location instanceof Error)
        throw location ?? new BlockMissingError(`block ${hash} was not located`);
      const fetched = new Map<string, Fetched>();
      await this.fetchAll([location], fetched, true);
      const got = fetched.get(hash);
      if (got instanceof Uint8Array) return got;
      throw got ?? new Error(`block ${hash} not fetched`);
    };
    const servedLocally = new Set<number>();
    const pending = new Map<number, Promise<Uint8Array>>();
    const start = (index: number) => {
      if (index >= file.blockHashes.length || pending.has(index)) return;
      const hash = file.blockHashes[index]!;
      const promise =
        local && isLocal(hash)
          ? local.read(hash).then((bytes) => {
              if (bytes === undefined) return fromStorage(hash);
              servedLocally.add(index);
              return bytes;
            })
          : fromStorage(hash);
      // A look-ahead fetch of a download that fails midway is never awaited: keep it handled.
      promise.catch(() => undefined);
      pending.set(index, promise);
    };
    await sink.write(file, {
      block: async (index) => {
        this.signal?.throwIfAborted();
        for (let ahead = index; ahead < index + this.options.windowBlocks; ahead++) start(ahead);
        const promise = pending.get(index)!;
        pending.delete(index);
        return promise;
      },
      fromLocal: (index) => servedLocally.has(index),
    });
  }

  // ---- fetching ----

  /**
   * Fetches `locations` into `into` (hash -> verified bytes or the error that stopped it):
   * packed blocks by coalesced ranged reads, legacy blocks by whole-object reads.
   */
  private async fetchAll(
    locations: readonly BlockLocation[],
    into: Map<string, Fetched>,
    mayRelocate: boolean,
    arena?: RangeArena,
  ): Promise<void> {
    const ranges = coalesceRanges(locations, this.options.maxGapBytes, this.options.maxRangeBytes);
    const legacy = unique(locations.filter((location) => location.packId === '').map((l) => l.hash));
    await Promise.all([
      ...ranges.map((range) => this.fetchRange(range, into, mayRelocate, arena)),
      ...legacy.map(async (hash) => {
        try {
          into.set(hash, await this.transfers(() => this.get(hash)));
        } catch (error) {
          if (mayRelocate && error instanceof StorageObjectGoneError) {
            await this.relocate([hash], into);
          } else {
            into.set(hash, asError(error));
          }
        }
      }),
    ]);
  }

  private async fetchRange(
    range: PackRange,
    into: Map<string, Fetched>,
    mayRelocate: boolean,
    arena?: RangeArena,
  ): Promise<void> {
    let bytes: Uint8Array;
    try {
      const slice = arena?.take(range.length);
      bytes = await this.transfers(() => this.getRange(range.packId, range.offset, range.length, slice));
    } catch (error) {
      if (mayRelocate && error instanceof StorageObjectGoneError) {
        await this.relocate(
          range.blocks.map((block) => block.hash),
          into,
        );
      } else {
        for (const block of range.blocks) into.set(block.hash, asError(error));
      }
      return;
    }
    const again: BlockLocation[] = [];
    for (const block of range.blocks) {
      const start = block.offset - range.offset;
      const slice = bytes.subarray(start, start + block.length);
      if (blockHash(slice) === block.hash) into.set(block.hash, slice);
      else again.push(block);
    }
    // A corrupted transfer is read again once, block by block; a second mismatch means the
    // stored bytes are bad: the block fails and is never written.
    await Promise.all(
      again.map(async (block) => {
        try {
          const retry = await this.transfers(() => this.getRange(block.packId, block.offset, block.length));
          into.set(
            block.hash,
            blockHash(retry) === block.hash
              ? retry
              : new BlockIntegrityError(`block ${block.hash}: downloaded bytes do not match their hash`),
          );
        } catch (error) {
          into.set(block.hash, asError(error));
        }
      }),
    );
  }

  private get(hash: string): Promise<Uint8Array> {
    this.onRequest();
    return this.blocks.get(this.namespaceId, hash);
  }

  private getRange(packId: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    this.onRequest();
    return this.blocks.getRange(this.namespaceId, packId, offset, length, into);
  }

  /** The objects holding these blocks are gone (a pack rewritten): ask where they are now, once. */
  private async relocate(hashes: readonly string[], into: Map<string, Fetched>): Promise<void> {
    let where: Map<string, BlockLocation | Error>;
    try {
      where = await this.locate(hashes);
    } catch (error) {
      for (const hash of hashes) into.set(hash, asError(error));
      return;
    }
    const located: BlockLocation[] = [];
    for (const hash of hashes) {
      const got = where.get(hash);
      if (got === undefined || got instanceof Error)
        into.set(hash, got ?? new BlockMissingError(`block ${hash} is missing`));
      else located.push(got);
    }
    await this.fetchAll(located, into, false);
  }

  /** Hash -> location, or BlockMissingError for a block the server does not hold. */
  private async locate(hashes: readonly string[]): Promise<Map<string, BlockLocation | Error>> {
    const where = new Map<string, BlockLocation | Error>();
    for (let i = 0; i < hashes.length; i += LIMITS.maxBlockHashesPerQuery) {
      const slice = hashes.slice(i, i + LIMITS.maxBlockHashesPerQuery);
      const { locations, missing } = await this.remote.locateBlocks(this.namespaceId, slice);
      for (const location of locations) {
        let packId = this.packIds.get(location.packId);
        if (packId === undefined) this.packIds.set(location.packId, (packId = location.packId));
        where.set(location.hash, {
          hash: location.hash,
          packId,
          offset: location.offset,
          length: location.length,
        });
      }
      for (const hash of missing)
        where.set(hash, new BlockMissingError(`block ${hash} is missing on the server`));
    }
    return where;
  }
}

function unique(hashes: readonly string[]): string[] {
  return [...new Set(hashes)];
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

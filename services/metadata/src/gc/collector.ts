import { createHash } from 'node:crypto';
import { PackBuilder, type BuiltPack } from '@filesync/sync-core';
import type { BlockRecord, Clock, GcIndex, GcStorage, PackRecord, ReferencingEntry } from './ports';

/**
 * The storage garbage collector: deletes blocks, packs, block lists and objects that no current
 * file, no retained version (VER# not expired) and no in-flight upload needs, and rewrites packs
 * that are mostly garbage.
 *
 * Why two phases (condemn, then delete a run later) and why it is safe against a concurrent
 * commit that reuses a block:
 * - A commit verifies that the blocks it names exist (and clears `condemnedAtMs` on any it finds
 *   condemned, conditionally on the value it saw) and then writes its transaction, all within its
 *   RPC deadline, which is far below the grace period G.
 * - The collector deletes a block only when (1) it was condemned at or before S - G, where S is
 *   this run's start, (2) a reference scan that STARTED AFTER S finds it unreferenced, and (3) its
 *   condemnedAtMs still equals the value the collector read (a conditional delete).
 * - A commit whose transaction landed before the scan read its entry is seen by the scan (2). A
 *   commit whose transaction lands after that must have verified the block less than a deadline
 *   before, i.e. after S - G, i.e. after the condemnation: so it saw the mark and revived the
 *   block, and the revive changes condemnedAtMs, so the conditional delete (3) fails. Whichever of
 *   the revive and the delete reaches the item first, the block is either kept or the commit
 *   finds it gone and asks the client to upload it again; bytes are never lost behind a commit.
 * - New blocks are never condemned before they are G old: an upload registered its pack (and its
 *   BLOCK# items) but has not committed yet.
 * BLOCKLIST# parts get the same treatment: a commit writes its long lists (a Put, which clears any
 * condemnation) before its transaction, so a part unreferenced "right now" may be one a commit is
 * about to reference.
 */
export interface CollectorOptions {
  readonly index: GcIndex;
  readonly storage: GcStorage;
  readonly clock: Clock;
  /** G: milliseconds an unreferenced thing must stay condemned (or a new one unused) before it goes. */
  readonly graceMs: number;
  /** A pack whose referenced bytes are below this fraction of its data bytes is rewritten (0..1). */
  readonly rewriteBelowLiveFraction: number;
  /** Report what would be done, change nothing. */
  readonly dryRun?: boolean;
  /** Target size of the packs a rewrite writes (default LIMITS.packTargetBytes). */
  readonly packTargetBytes?: number;
  /** Called with each namespace's failure; the run continues with the next namespace. */
  readonly onError?: (namespaceId: string, error: unknown) => void;
}

/** What one run did (or, in a dry run, would do). Counts are items or objects; bytes are bytes. */
export interface GcReport {
  dryRun: boolean;
  namespaces: number;
  blocksCondemned: number;
  blocksRevived: number;
  blocksDeleted: number;
  packsDeleted: number;
  packsRewritten: number;
  /** Packs written by rewrites. */
  packsWritten: number;
  /** Live blocks moved into rewritten packs. */
  blocksMoved: number;
  /** Live block bytes copied by rewrites. */
  bytesRewritten: number;
  blockListsCondemned: number;
  blockListsRevived: number;
  blockListsDeleted: number;
  orphanPacksDeleted: number;
  orphanBlocksDeleted: number;
  /** Bytes of the objects deleted (packs, legacy blocks, orphans). */
  bytesFreed: number;
  /** Namespaces that failed, with the reason; the run exits non-zero when there is any. */
  errors: { namespaceId: string; message: string }[];
}

export function emptyReport(dryRun: boolean): GcReport {
  return {
    dryRun,
    namespaces: 0,
    blocksCondemned: 0,
    blocksRevived: 0,
    blocksDeleted: 0,
    packsDeleted: 0,
    packsRewritten: 0,
    packsWritten: 0,
    blocksMoved: 0,
    bytesRewritten: 0,
    blockListsCondemned: 0,
    blockListsRevived: 0,
    blockListsDeleted: 0,
    orphanPacksDeleted: 0,
    orphanBlocksDeleted: 0,
    bytesFreed: 0,
    errors: [],
  };
}

/** A block (of a pack) the collector found referenced and not condemned. */
interface LiveBlock {
  readonly hash: string;
  readonly offset: number;
  readonly length: number;
}

/** What remains pointing at one pack after the block sweep. */
interface PackUse {
  pointers: number;
  liveBytes: number;
  readonly live: LiveBlock[];
}

interface References {
  readonly blocks: ReadonlySet<string>;
  /** `<contentHash>#<index>` of every referenced BLOCKLIST# part. */
  readonly blockListParts: ReadonlySet<string>;
}

const partKey = (contentHash: string, index: number) => `${contentHash}#${index}`;

/** A block read back from a pack did not hash to its name: the pack is not rewritten. */
export class CorruptBlockError extends Error {
  override name = 'CorruptBlockError';
}

export class GarbageCollector {
  private readonly index: GcIndex;
  private readonly storage: GcStorage;
  private readonly clock: Clock;
  private readonly dryRun: boolean;

  constructor(private readonly options: CollectorOptions) {
    this.index = options.index;
    this.storage = options.storage;
    this.clock = options.clock;
    this.dryRun = options.dryRun ?? false;
  }

  /**
   * One run over every namespace (or only `only`, an operator's or a test's choice). A failing
   * namespace is reported and the others still run.
   */
  async run(only?: readonly string[]): Promise<GcReport> {
    const report = emptyReport(this.dryRun);
    const namespaces: AsyncIterable<string> | readonly string[] = only ?? this.index.namespaces();
    for await (const namespaceId of namespaces) {
      report.namespaces += 1;
      try {
        await this.collectNamespace(namespaceId, report);
      } catch (error) {
        report.errors.push({ namespaceId, message: error instanceof Error ? error.message : String(error) });
        this.options.onError?.(namespaceId, error);
      }
    }
    return report;
  }

  /** One namespace: references, blocks, packs, block lists, orphans (in that order: each uses the last). */
  async collectNamespace(namespaceId: string, report: GcReport): Promise<void> {
    // S is taken BEFORE the reference scan: everything committed before S is in the scan.
    const startMs = this.clock.now();
    const cutoffMs = startMs - this.options.graceMs;
    const references = await this.references(namespaceId, startMs);

    const packUse = new Map<string, PackUse>();
    /** Legacy blocks whose BLOCK# item is still there after the sweep. */
    const legacyIndexed = new Set<string>();
    for await (const block of this.index.blocks(namespaceId)) {
      const outcome = await this.sweepBlock(namespaceId, block, references, cutoffMs, report);
      if (outcome === 'gone') continue;
      if (block.pack === undefined) {
        legacyIndexed.add(block.hash);
        continue;
      }
      let use = packUse.get(block.pack);
      if (!use) packUse.set(block.pack, (use = { pointers: 0, liveBytes: 0, live: [] }));
      use.pointers += 1;
      if (outcome === 'live' && block.offset !== undefined && block.length !== undefined) {
        use.live.push({ hash: block.hash, offset: block.offset, length: block.length });
        use.liveBytes += block.length;
      }
    }

    const indexedPacks = new Set<string>();
    const sparse: { pack: PackRecord; live: LiveBlock[] }[] = [];
    for await (const pack of this.index.packs(namespaceId)) {
      indexedPacks.add(pack.packId);
      const use = packUse.get(pack.packId);
      const oldEnough =
        pack.createdAtMs <= cutoffMs && (pack.retiredAtMs === undefined || pack.retiredAtMs <= cutoffMs);
      if (!use || use.pointers === 0) {
        // No BLOCK# item points here any more; a young one may be an upload whose BLOCK# items
        // are being registered right now.
        if (oldEnough) await this.deletePack(namespaceId, pack, report);
        continue;
      }
      if (
        pack.retiredAtMs === undefined &&
        oldEnough &&
        use.liveBytes < this.options.rewriteBelowLiveFraction * pack.dataBytes
      ) {
        sparse.push({ pack, live: use.live });
      }
    }
    const written = await this.rewrite(namespaceId, sparse, report);

    await this.sweepBlockLists(namespaceId, references, cutoffMs, report);
    await this.deleteOrphans(namespaceId, references, cutoffMs, {
      packs: new Set([...indexedPacks, ...written]),
      legacyBlocks: legacyIndexed,
      report,
    });
  }

  /** R: blocks (and block-list parts) of live FILE# items and of VER# items not expired at `nowMs`. */
  private async references(namespaceId: string, nowMs: number): Promise<References> {
    const blocks = new Set<string>();
    const parts = new Set<string>();
    const expanded = new Set<string>();
    for await (const entry of this.index.referencingEntries(namespaceId)) {
      if (isExpired(entry, nowMs)) continue;
      for (const hash of entry.blockHashes) blocks.add(hash);
      const list = entry.blockList;
      if (!list) continue;
      for (let index = 0; index < list.parts; index += 1) parts.add(partKey(list.contentHash, index));
      // Files with the same content share one list: read it once.
      if (expanded.has(list.contentHash)) continue;
      expanded.add(list.contentHash);
      for (const hash of await this.index.blockList(namespaceId, list.contentHash, list.parts))
        blocks.add(hash);
    }
    return { blocks, blockListParts: parts };
  }

  /**
   * Step b for one BLOCK# item. 'live': referenced (revived if it was condemned); 'kept': still
   * there but unreferenced (condemned now, waiting out the grace, or too young); 'gone': deleted.
   */
  private async sweepBlock(
    namespaceId: string,
    block: BlockRecord,
    references: References,
    cutoffMs: number,
    report: GcReport,
  ): Promise<'live' | 'kept' | 'gone'> {
    if (references.blocks.has(block.hash)) {
      if (block.condemnedAtMs !== undefined) {
        // A failed revive means the item changed under us (a commit revived it first): live anyway.
        if (this.dryRun || (await this.index.reviveBlock(namespaceId, block.hash, block.condemnedAtMs))) {
          report.blocksRevived += 1;
        }
      }
      return 'live';
    }
    if (block.condemnedAtMs !== undefined) {
      if (block.condemnedAtMs > cutoffMs) return 'kept';
      if (!this.dryRun && !(await this.index.deleteBlock(namespaceId, block.hash, block.condemnedAtMs))) {
        return 'kept'; // A commit revived it between our read and the delete: the commit wins.
      }
      report.blocksDeleted += 1;
      if (block.pack === undefined) {
        // The item goes first: a legacy object without its item is an orphan a later run removes,
        // while an item without its object would be a block the index claims but cannot serve.
        report.bytesFreed += this.dryRun
          ? (block.length ?? 0)
          : await this.storage.deleteLegacyBlock(namespaceId, block.hash);
      }
      return 'gone';
    }
    if (block.createdAtMs <= cutoffMs) {
      if (this.dryRun || (await this.index.condemnBlock(namespaceId, block.hash, this.clock.now()))) {
        report.blocksCondemned += 1;
      }
    }
    return 'kept';
  }

  /**
   * The PACK# item goes first, conditional on what we read: a pack re-registered meanwhile keeps
   * its item (and its object). A crash between the two leaves an object without an item, which
   * the orphan sweep of a later run deletes.
   */
  private async deletePack(namespaceId: string, pack: PackRecord, report: GcReport): Promise<void> {
    if (!this.dryRun) {
      if (!(await this.index.deletePack(namespaceId, pack))) return;
      await this.storage.deletePackObject(namespaceId, pack.packId);
    }
    report.packsDeleted += 1;
    report.bytesFreed += pack.size;
  }

  /**
   * Step c's rewrite: the live blocks of mostly-garbage packs are copied (hash-verified) into new
   * packs, the new PACK# items written, each BLOCK# item moved (conditionally: a block condemned
   * meanwhile stays where it was), and the old pack retired. Its object stays until a later run
   * finds no BLOCK# item pointing at it and it retired at least G ago: downloads that located a
   * block before the move may still be reading it. Answers the ids of the packs written.
   */
  private async rewrite(
    namespaceId: string,
    sparse: readonly { pack: PackRecord; live: LiveBlock[] }[],
    report: GcReport,
  ): Promise<string[]> {
    const written: string[] = [];
    let builder = new PackBuilder(this.options.packTargetBytes);
    /** Which old pack each block in the builder comes from. */
    let sources = new Map<string, string>();
    /** Old packs all of whose live blocks are in the builder or already moved. */
    let complete: PackRecord[] = [];

    const flush = async () => {
      if (builder.blockCount === 0) return;
      const built = builder.finish();
      await this.publish(namespaceId, built, sources, report);
      written.push(built.packId);
      for (const pack of complete) {
        if (!this.dryRun) await this.index.retirePack(namespaceId, pack.packId, this.clock.now());
        report.packsRewritten += 1;
      }
      builder = new PackBuilder(this.options.packTargetBytes);
      sources = new Map();
      complete = [];
    };

    for (const { pack, live } of sparse) {
      let blocks: { hash: string; bytes: Uint8Array }[];
      try {
        blocks = await this.readLiveBlocks(namespaceId, pack.packId, live);
      } catch (error) {
        // A damaged pack is left exactly as it is (its blocks keep their location) and reported.
        if (!(error instanceof CorruptBlockError)) throw error;
        report.errors.push({ namespaceId, message: error.message });
        continue;
      }
      for (const block of blocks) {
        if (sources.has(block.hash)) continue; // Never two entries for one hash in one pack.
        if (builder.wouldExceed(block.bytes.byteLength)) await flush();
        builder.add(block.hash, block.bytes);
        sources.set(block.hash, pack.packId);
        report.bytesRewritten += block.bytes.byteLength;
      }
      complete.push(pack);
    }
    await flush();
    return written;
  }

  private async publish(
    namespaceId: string,
    built: BuiltPack,
    sources: ReadonlyMap<string, string>,
    report: GcReport,
  ): Promise<void> {
    report.packsWritten += 1;
    if (this.dryRun) {
      report.blocksMoved += built.entries.length;
      return;
    }
    // Object, then its PACK# item, then the moves: a crash leaves at worst an orphan object or a
    // pack nothing points at, both collected by a later run; never a block pointing at nothing.
    await this.storage.writePack(namespaceId, built.packId, built.parts, built.size);
    const dataBytes = built.entries.reduce((sum, entry) => sum + entry.length, 0);
    await this.index.putPack(namespaceId, {
      packId: built.packId,
      size: built.size,
      dataBytes,
      blocks: built.entries.length,
      createdAtMs: this.clock.now(),
    });
    for (const entry of built.entries) {
      const from = sources.get(entry.hash)!;
      const to = { pack: built.packId, offset: entry.offset, length: entry.length };
      if (await this.index.moveBlock(namespaceId, entry.hash, from, to)) report.blocksMoved += 1;
    }
  }

  /** Ranged reads of the live blocks (adjacent ones in one request), each checked against its hash. */
  private async readLiveBlocks(
    namespaceId: string,
    packId: string,
    live: readonly LiveBlock[],
  ): Promise<{ hash: string; bytes: Uint8Array }[]> {
    const sorted = [...live].sort((a, b) => a.offset - b.offset);
    const result: { hash: string; bytes: Uint8Array }[] = [];
    let start = 0;
    while (start < sorted.length) {
      let end = start + 1;
      while (
        end < sorted.length &&
        sorted[end]!.offset === sorted[end - 1]!.offset + sorted[end - 1]!.length
      ) {
        end += 1;
      }
      const first = sorted[start]!;
      const last = sorted[end - 1]!;
      const bytes = await this.storage.readPackRange(
        namespaceId,
        packId,
        first.offset,
        last.offset + last.length - first.offset,
      );
      for (const block of sorted.slice(start, end)) {
        const at = block.offset - first.offset;
        const slice = bytes.subarray(at, at + block.length);
        const actual = createHash('sha256').update(slice).digest('hex');
        if (slice.byteLength !== block.length || actual !== block.hash) {
          throw new CorruptBlockError(
            `pack ${packId}: block ${block.hash} at ${block.offset} reads back as ${actual}; pack left as it is`,
          );
        }
        result.push({ hash: block.hash, bytes: slice });
      }
      start = end;
    }
    return result;
  }

  /** BLOCKLIST# parts: the same two phases as blocks (see the class comment for why). */
  private async sweepBlockLists(
    namespaceId: string,
    references: References,
    cutoffMs: number,
    report: GcReport,
  ): Promise<void> {
    for await (const part of this.index.blockListParts(namespaceId)) {
      const seen = part.condemnedAtMs;
      if (references.blockListParts.has(partKey(part.contentHash, part.index))) {
        if (
          seen !== undefined &&
          (this.dryRun || (await this.index.reviveBlockListPart(namespaceId, part, seen)))
        ) {
          report.blockListsRevived += 1;
        }
      } else if (seen === undefined) {
        if (this.dryRun || (await this.index.condemnBlockListPart(namespaceId, part, this.clock.now()))) {
          report.blockListsCondemned += 1;
        }
      } else if (seen <= cutoffMs) {
        if (this.dryRun || (await this.index.deleteBlockListPart(namespaceId, part, seen))) {
          report.blockListsDeleted += 1;
        }
      }
    }
  }

  /**
   * Step d: objects nothing indexes. A pack object without a PACK# item older than G is a client
   * that crashed between its PUT and RegisterPacks (or a collector between its two deletes); a
   * legacy block object without a BLOCK# item older than G was never committed. Each candidate is
   * checked once more just before it goes, and a legacy block anything references is kept.
   */
  private async deleteOrphans(
    namespaceId: string,
    references: References,
    cutoffMs: number,
    known: { packs: ReadonlySet<string>; legacyBlocks: ReadonlySet<string>; report: GcReport },
  ): Promise<void> {
    const { report } = known;
    for await (const object of this.storage.packObjects(namespaceId)) {
      if (known.packs.has(object.name) || object.lastModifiedMs > cutoffMs) continue;
      if (!this.dryRun) {
        if (await this.index.hasPack(namespaceId, object.name)) continue;
        await this.storage.deletePackObject(namespaceId, object.name);
      }
      report.orphanPacksDeleted += 1;
      report.bytesFreed += object.size;
    }
    for await (const object of this.storage.legacyBlockObjects(namespaceId)) {
      if (known.legacyBlocks.has(object.name) || object.lastModifiedMs > cutoffMs) continue;
      if (references.blocks.has(object.name)) continue;
      report.bytesFreed += this.dryRun
        ? object.size
        : await this.storage.deleteLegacyBlock(namespaceId, object.name);
      report.orphanBlocksDeleted += 1;
    }
  }
}

function isExpired(entry: ReferencingEntry, nowMs: number): boolean {
  return entry.kind === 'version' && entry.expiresAt !== undefined && entry.expiresAt * 1000 <= nowMs;
}

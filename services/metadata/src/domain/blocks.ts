import pLimit from 'p-limit';
import { failedPrecondition, unavailable } from '@filesync/server-kit';
import type { BlockIndex, BlockRecord, Clock, PackStorage, PackedBlock } from './ports';

/** A pack as a validated RegisterPacks request names it (see validation.ts checkPacks). */
export interface PackRegistration {
  readonly packId: string;
  /** Object size in bytes, trailer included. */
  readonly size: number;
  /** In offset order, not overlapping, inside the pack's data section. */
  readonly blocks: readonly { readonly hash: string; readonly offset: number; readonly length: number }[];
}

export interface RegisterResult {
  /** Blocks now indexed at a location in the registered packs (new, or revived from condemnation). */
  readonly indexed: number;
  /** Blocks that kept the location they were indexed at before. */
  readonly alreadyIndexed: number;
}

/** Where a block is: `packId` undefined for a block stored as an object of its own. */
export interface BlockLocation {
  readonly hash: string;
  readonly packId: string | undefined;
  readonly offset: number;
  /** Bytes; 0 when unknown (the whole object). */
  readonly length: number;
}

/** Lost races per block before giving up: each needs a collector write in between. */
const MAX_ATTEMPTS = 8;
/** Parallel pack HEADs and revive requests of one call. */
const CONCURRENCY = 16;

/**
 * The namespace's blocks, answered from its block index alone: cost grows with the blocks a call
 * names (plus one storage request per registered pack), never with the namespace.
 */
export class Blocks {
  /**
   * @param maxPackAgeMs a pack written longer ago than this is refused by `register` (undefined:
   *   any age). The collector deletes pack objects nobody registered once they are older than its
   *   grace period; registering only packs written less than half that grace ago means it never
   *   deletes an object a registration is about to make live. Clients write every pack under a
   *   new id (the pack format's nonce), so a refused pack is simply written again.
   */
  constructor(
    private readonly index: BlockIndex,
    private readonly packs: PackStorage,
    private readonly clock: Clock,
    private readonly maxPackAgeMs?: number,
  ) {}

  /**
   * The hashes the index does not hold, each once, in the order first given. A condemned block
   * still counts as held: a commit naming it revives it (see `missingForCommit`). Reads only.
   */
  async findMissing(namespaceId: string, hashes: readonly string[]): Promise<string[]> {
    const unique = [...new Set(hashes)];
    if (unique.length === 0) return [];
    const records = await this.index.lookup(namespaceId, unique);
    return unique.filter((hash) => !records.has(hash));
  }

  /**
   * The commit's check: the hashes the index does not hold, each once, in the order first given.
   * Blocks the collector condemned are revived first (conditionally on the condemnation seen, so a
   * collector deleting them at the same time loses); a block deleted meanwhile is missing and the
   * client uploads it again.
   */
  async missingForCommit(namespaceId: string, hashes: readonly string[]): Promise<string[]> {
    const unique = [...new Set(hashes)];
    if (unique.length === 0) return [];
    const records = await this.index.lookup(namespaceId, unique);
    const limit = pLimit(CONCURRENCY);
    const held = await Promise.all(
      unique.map((hash) => {
        const record = records.get(hash);
        if (!record) return false;
        if (record.condemnedAtMs === undefined) return true;
        return limit(() => this.revive(namespaceId, record));
      }),
    );
    return unique.filter((_, index) => !held[index]);
  }

  private async revive(namespaceId: string, condemned: BlockRecord): Promise<boolean> {
    let record: BlockRecord | undefined = condemned;
    for (let attempt = 0; record?.condemnedAtMs !== undefined; attempt += 1) {
      // Each lost race is a collector write; this many in a row means the index is not settling.
      if (attempt >= MAX_ATTEMPTS) return false;
      record = await this.index.revive(namespaceId, record.hash, record.condemnedAtMs);
    }
    return record !== undefined;
  }

  /**
   * Indexes the blocks of packs the caller wrote. Each pack costs one storage request (does the
   * object exist with this size?) before anything is written; then its PACK# record, then its
   * blocks. A block already indexed keeps its location; one the collector condemned moves to the
   * new pack and is revived. Registering the same packs again changes nothing.
   * Errors: FAILED_PRECONDITION (detail `missing-packs`: the pack ids, comma separated) when a
   * pack object is absent, has another size, or was written more than maxPackAgeMs ago; nothing
   * is written then.
   */
  async register(namespaceId: string, packs: readonly PackRegistration[]): Promise<RegisterResult> {
    const limit = pLimit(CONCURRENCY);
    const stored = await Promise.all(
      packs.map((pack) => limit(() => this.packs.headPack(namespaceId, pack.packId))),
    );
    const missing = packs
      .filter((pack, index) => stored[index]?.size !== pack.size)
      .map((pack) => pack.packId);
    if (missing.length > 0) {
      throw failedPrecondition(
        `${missing.length} pack(s) are not in storage with the size given: upload them (or fix the size), then register again`,
        { 'missing-packs': [...new Set(missing)].join(',') },
      );
    }
    const now = this.clock.now();
    const maxAge = this.maxPackAgeMs;
    const stale =
      maxAge === undefined
        ? []
        : packs.filter((_, index) => stored[index]!.writtenAtMs < now - maxAge).map((pack) => pack.packId);
    if (stale.length > 0) {
      throw failedPrecondition(
        `${stale.length} pack(s) were written too long ago to register (the storage collector may be deleting them): write them again as new packs, then register those`,
        { 'missing-packs': [...new Set(stale)].join(',') },
      );
    }

    const seen = new Set<string>();
    const blocks: PackedBlock[] = [];
    let duplicates = 0;
    // Packs before their blocks: a block record never names a pack the index does not know.
    await Promise.all(
      packs.map((pack) =>
        limit(() =>
          this.index.putPack(namespaceId, {
            packId: pack.packId,
            size: pack.size,
            dataBytes: pack.blocks.reduce((sum, block) => sum + block.length, 0),
            blocks: pack.blocks.length,
            createdAtMs: now,
          }),
        ),
      ),
    );
    for (const pack of packs) {
      for (const block of pack.blocks) {
        // The first copy of a block in the request is the one indexed; later ones are garbage.
        if (seen.has(block.hash)) duplicates += 1;
        else blocks.push({ ...block, packId: pack.packId });
        seen.add(block.hash);
      }
    }

    const outcomes = await this.index.addBlocks(namespaceId, blocks, now);
    const condemned = blocks.flatMap((block, index) => {
      const outcome = outcomes[index]!;
      return outcome.kind === 'exists' && outcome.existing.condemnedAtMs !== undefined
        ? [{ block, seen: outcome.existing.condemnedAtMs }]
        : [];
    });
    const moved = await Promise.all(
      condemned.map(({ block, seen: condemnedAtMs }) =>
        limit(() => this.relocate(namespaceId, block, condemnedAtMs, now)),
      ),
    );
    const indexed =
      outcomes.filter((outcome) => outcome.kind === 'indexed').length + moved.filter(Boolean).length;
    return { indexed, alreadyIndexed: blocks.length + duplicates - indexed };
  }

  /** True when the block now lives in the new pack; false when a live record is kept instead. */
  private async relocate(
    namespaceId: string,
    block: PackedBlock,
    condemnedAtMs: number,
    now: number,
  ): Promise<boolean> {
    let seen = condemnedAtMs;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      if (await this.index.relocate(namespaceId, block, seen, now)) return true;
      // Someone else changed it: revived (kept where it is), deleted (index it here) or re-condemned.
      const current = (await this.index.lookup(namespaceId, [block.hash])).get(block.hash);
      if (!current) {
        const [outcome] = await this.index.addBlocks(namespaceId, [block], now);
        if (outcome!.kind === 'indexed') return true;
        if (outcome!.existing.condemnedAtMs === undefined) return false;
        seen = outcome!.existing.condemnedAtMs;
      } else if (current.condemnedAtMs === undefined) {
        return false;
      } else {
        seen = current.condemnedAtMs;
      }
    }
    throw unavailable(`block ${block.hash} keeps changing under the garbage collector: retry shortly`);
  }

  /**
   * Where each block is, in the order first given (each hash once), and the hashes the index
   * does not hold.
   */
  async locate(
    namespaceId: string,
    hashes: readonly string[],
  ): Promise<{ locations: BlockLocation[]; missing: string[] }> {
    const unique = [...new Set(hashes)];
    const records = unique.length > 0 ? await this.index.lookup(namespaceId, unique) : new Map();
    const locations: BlockLocation[] = [];
    const missing: string[] = [];
    for (const hash of unique) {
      const record = records.get(hash);
      if (!record) missing.push(hash);
      else locations.push({ hash, packId: record.packId, offset: record.offset, length: record.length });
    }
    return { locations, missing };
  }
}

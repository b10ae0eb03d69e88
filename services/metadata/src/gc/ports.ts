/**
 * Ports of the storage garbage collector (a job of the metadata service: it owns the metadata
 * table and the bucket). The domain (collector.ts) knows neither DynamoDB nor S3; the adapters
 * next to it implement these against the layout of COMMON.md / the issue 7 data model.
 *
 * Times are Unix milliseconds unless a name says otherwise; sizes are bytes.
 */

/** A `BLOCK#<hash>` item: where one block lives, and whether the collector condemned it. */
export interface BlockRecord {
  readonly hash: string;
  /** Pack holding the block; absent for a legacy block stored as its own object. */
  readonly pack?: string;
  readonly offset?: number;
  /** Absent for legacy items written before packs (the whole object). */
  readonly length?: number;
  /** For legacy items: their verifiedAtMs. */
  readonly createdAtMs: number;
  readonly condemnedAtMs?: number;
}

/** A `PACK#<packId>` item. */
export interface PackRecord {
  readonly packId: string;
  /** Object size, trailer included. */
  readonly size: number;
  /** Bytes of block data (the object without its trailer). */
  readonly dataBytes: number;
  readonly blocks: number;
  readonly createdAtMs: number;
  readonly retiredAtMs?: number;
}

/**
 * A `FILE#` or `VER#` item as far as references go. A deleted file's tombstone has no blocks.
 */
export interface ReferencingEntry {
  readonly kind: 'file' | 'version';
  /** Unix SECONDS (the table's TTL attribute); absent = never expires. */
  readonly expiresAt?: number;
  /** Inline block hashes (empty when the list is stored apart or the entry is a tombstone). */
  readonly blockHashes: readonly string[];
  /** A long block list stored as BLOCKLIST# parts. */
  readonly blockList?: { readonly contentHash: string; readonly parts: number };
}

/** A `BLOCKLIST#<contentHash>#<n>` item (its hashes are not needed to decide its fate). */
export interface BlockListPartRecord {
  readonly contentHash: string;
  readonly index: number;
  readonly condemnedAtMs?: number;
}

/** An object found by listing a prefix: `name` is the key's last segment (pack id or block hash). */
export interface StoredObject {
  readonly name: string;
  readonly size: number;
  readonly lastModifiedMs: number;
}

/** Where a block moves to when its pack is rewritten. */
export interface BlockLocation {
  readonly pack: string;
  readonly offset: number;
  readonly length: number;
}

/**
 * The metadata table as the collector sees it. Every mutation is conditional on what the collector
 * read, and answers false (never throws) when the condition failed: a concurrent commit won.
 */
export interface GcIndex {
  /** Namespaces that have a HEAD item (ever committed). */
  namespaces(): AsyncIterable<string>;
  /** Every FILE# and VER# item of the namespace, read strongly consistent, page by page. */
  referencingEntries(namespaceId: string): AsyncIterable<ReferencingEntry>;
  /**
   * The hashes of a long block list, its `parts` parts concatenated.
   * @throws when a part is missing (the entry is damaged: nothing may be collected around it).
   */
  blockList(namespaceId: string, contentHash: string, parts: number): Promise<string[]>;
  blocks(namespaceId: string): AsyncIterable<BlockRecord>;
  packs(namespaceId: string): AsyncIterable<PackRecord>;
  blockListParts(namespaceId: string): AsyncIterable<BlockListPartRecord>;
  /** Whether a PACK# item exists now (strongly consistent). */
  hasPack(namespaceId: string, packId: string): Promise<boolean>;

  /** SET condemnedAtMs if the item exists and is not condemned. */
  condemnBlock(namespaceId: string, hash: string, atMs: number): Promise<boolean>;
  /** REMOVE condemnedAtMs if it still equals `seenCondemnedAtMs`. */
  reviveBlock(namespaceId: string, hash: string, seenCondemnedAtMs: number): Promise<boolean>;
  /** Deletes the item if condemnedAtMs still equals `seenCondemnedAtMs`. */
  deleteBlock(namespaceId: string, hash: string, seenCondemnedAtMs: number): Promise<boolean>;
  /** Points the item at `to` if it still points at `fromPack` and is not condemned. */
  moveBlock(namespaceId: string, hash: string, fromPack: string, to: BlockLocation): Promise<boolean>;

  /** Writes a new PACK# item (a pack the collector wrote). */
  putPack(namespaceId: string, pack: PackRecord): Promise<void>;
  /** SET retiredAtMs on a pack whose live blocks were moved elsewhere. */
  retirePack(namespaceId: string, packId: string, atMs: number): Promise<void>;
  /** Deletes the PACK# item if createdAtMs and retiredAtMs are still what the collector read. */
  deletePack(namespaceId: string, pack: PackRecord): Promise<boolean>;

  condemnBlockListPart(namespaceId: string, part: BlockListPartRecord, atMs: number): Promise<boolean>;
  reviveBlockListPart(
    namespaceId: string,
    part: BlockListPartRecord,
    seenCondemnedAtMs: number,
  ): Promise<boolean>;
  deleteBlockListPart(
    namespaceId: string,
    part: BlockListPartRecord,
    seenCondemnedAtMs: number,
  ): Promise<boolean>;
}

/** The bucket as the collector sees it. Deleting an object that is already gone succeeds. */
export interface GcStorage {
  /** Objects under packsPrefix(ns). */
  packObjects(namespaceId: string): AsyncIterable<StoredObject>;
  /** Objects under the legacy `ns/<ns>/blocks/` prefix. */
  legacyBlockObjects(namespaceId: string): AsyncIterable<StoredObject>;
  /** Bytes [offset, offset + length) of a pack object. */
  readPackRange(namespaceId: string, packId: string, offset: number, length: number): Promise<Uint8Array>;
  /** Writes a pack object (the parts in order). */
  writePack(namespaceId: string, packId: string, parts: readonly Uint8Array[], size: number): Promise<void>;
  deletePackObject(namespaceId: string, packId: string): Promise<void>;
  /** Deletes a legacy block object; answers the bytes it held (0 when it was already gone). */
  deleteLegacyBlock(namespaceId: string, hash: string): Promise<number>;
}

export interface Clock {
  now(): number;
}

import type { ChangeEvent, FileEntry, Follow, JournalRecord, TrashEntry } from './model';

/** One file of a commit transaction and the version it must still be at. */
export interface FileWrite {
  readonly entry: FileEntry;
  /** 0: the path must not exist yet. */
  readonly expectedVersion: number;
  /** The expected version is a live file (not absent, not a tombstone): the live count changes only on a transition. */
  readonly wasLive: boolean;
  /**
   * The current entry this write replaces (at expectedVersion), kept as a version item until the
   * transaction's supersededExpireAtMs; undefined for a path that does not exist yet.
   */
  readonly superseded?: FileEntry;
}

/** Deletions counted for the mass-delete rule over one window (issue 6, kind 2). */
export interface DeletionWindow {
  readonly startMs: number;
  /** Live files when the window started. */
  readonly liveAtStart: number;
  /** Files deleted since the window started. */
  readonly deleted: number;
  /**
   * Files made live since the window started (moves aside): they are live files the window
   * protects too, so an ordinary deletion after adding files is not taken for most of them.
   */
  readonly created: number;
}

/**
 * The namespace head: the journal sequence and, kept in the same item by every commit
 * transaction, the live-file count and the deletion window, so the mass-delete rule costs no listing.
 */
export interface HeadState {
  readonly seq: number;
  readonly live: number;
  readonly window: DeletionWindow | undefined;
}

/** Everything one commit transaction writes, all or nothing. */
export interface TransactionWrite {
  readonly namespaceId: string;
  /** The namespace head must still be at this sequence (0: no head yet). */
  readonly expectedSeq: number;
  /** The head after this transaction (its seq is the journal's). */
  readonly head: HeadState;
  readonly journal: JournalRecord;
  readonly files: readonly FileWrite[];
  readonly event: ChangeEvent;
  /**
   * Unix milliseconds at which the versions this transaction supersedes are gone: the commit
   * time plus the retention period. The current entry itself never expires.
   */
  readonly supersededExpireAtMs: number;
}

export type TransactionOutcome =
  | { readonly kind: 'committed' }
  | {
      readonly kind: 'rejected';
      /** Paths whose current version is no longer the expected one. */
      readonly conflictingPaths: readonly string[];
      /** Another commit took the sequence, or a concurrent transaction touched the same items. */
      readonly raced: boolean;
    };

/** Durable state of namespaces: heads, files, versions, journal, follows. */
export interface MetadataStore {
  /** The namespace's journal sequence; 0 before the first commit. */
  readHead(namespaceId: string): Promise<number>;
  /** The head with its live count and deletion window; a namespace without commits is all zero. */
  readHeadState(namespaceId: string): Promise<HeadState>;
  /** Which of the given paths are live files (not tombstones). */
  liveAmong(namespaceId: string, paths: readonly string[]): Promise<Set<string>>;
  /**
   * One live file strictly below `folder`, not counting the paths in `ignoring` (files the
   * caller is deleting), or undefined. Reads the current entries below the folder in order until
   * one qualifies, so a folder of many deleted files costs their reads (see the tree check).
   */
  firstLiveBelow(
    namespaceId: string,
    folder: string,
    ignoring: ReadonlySet<string>,
  ): Promise<string | undefined>;
  /**
   * Which of the given paths are marked folders: a path had a live file below it at some time
   * (markFolders). Markers are never removed, so a path missing from the answer has had no live
   * file below it since the namespace's markers exist; a marked one may be empty by now.
   */
  foldersAmong(namespaceId: string, paths: readonly string[]): Promise<Set<string>>;
  /**
   * Marks folders (idempotent). A commit marks the folders of every file it makes live before
   * its transaction, so a marker is durable by the time anyone can see the file.
   */
  markFolders(namespaceId: string, folders: readonly string[]): Promise<void>;
  /** Current entries (tombstones included) of the given paths; absent paths are missing from the map. */
  currentEntries(namespaceId: string, paths: readonly string[]): Promise<Map<string, FileEntry>>;
  /** Commits one transaction; a failed precondition is an outcome, not an exception. */
  commit(write: TransactionWrite): Promise<TransactionOutcome>;
  /**
   * Current entries ordered by path, page by page: every path, or with a non-empty `prefix` (a
   * folder path) only the paths strictly below it, read without touching the rest. Each page
   * costs the store a bounded read, whatever the namespace's size.
   */
  listFiles(namespaceId: string, options?: ListFilesOptions): AsyncIterable<readonly FileEntry[]>;
  /**
   * The trash (issue 8): files whose current entry is a tombstone that superseded a live version
   * still retained, at or below `query.prefix` ('' = everywhere), in path order, after
   * `query.afterPath` when given, at most `query.limit`. `hasMore` when more may follow. Costs
   * reads of the trash below the prefix only, never of live files.
   */
  listTrash(namespaceId: string, query: TrashQuery, signal?: AbortSignal): Promise<TrashPage>;
  /**
   * Every retained version of a path, newest first: the current entry and the superseded
   * versions whose retention has not run out.
   */
  listVersions(namespaceId: string, path: string): Promise<FileEntry[]>;
  /**
   * Specific versions, keyed by versionKey(path, version); a superseded version past its
   * retention is missing from the map.
   */
  getVersions(
    namespaceId: string,
    refs: readonly { path: string; version: number }[],
  ): Promise<Map<string, FileEntry>>;
  /** Journal entries with seq > afterSeq, oldest first, at most limit. */
  listJournal(
    namespaceId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ records: JournalRecord[]; hasMore: boolean }>;
  listFollows(namespaceId: string): Promise<Follow[]>;
  putFollow(follow: Follow): Promise<void>;
  deleteFollow(namespaceId: string, path: string, userId: string): Promise<void>;
}

export interface TrashQuery {
  /** A canonical path: the file itself and everything below it; '' for the whole namespace. */
  readonly prefix: string;
  /** Only paths after this one (path order); undefined from the start. */
  readonly afterPath?: string;
  readonly limit: number;
}

export interface TrashPage {
  readonly entries: readonly TrashEntry[];
  readonly hasMore: boolean;
}

export const versionKey = (path: string, version: number) => `${version}:${path}`;

/**
 * Where a block's bytes are, as the namespace's block index records it (`BLOCK#<hash>` items).
 * A block is present for commits as long as its record exists, condemned or not: a condemned one
 * must be revived (see BlockIndex.revive) before a commit relies on it.
 */
export interface BlockRecord {
  readonly hash: string;
  /** The pack holding the block; undefined for a block stored before packs as an object of its own. */
  readonly packId: string | undefined;
  /** Bytes from the start of the object. */
  readonly offset: number;
  /** Bytes; 0 when unknown (a block stored before packs: the whole object). */
  readonly length: number;
  /** When the block was indexed at this location, Unix milliseconds. */
  readonly createdAtMs: number;
  /** Set by the garbage collector when nothing referenced the block, Unix milliseconds. */
  readonly condemnedAtMs: number | undefined;
}

/** A pack object registered in the index (`PACK#<packId>` items). */
export interface PackRecord {
  /** Lowercase hex SHA-256 of the object; its key is packKey(namespace, packId). */
  readonly packId: string;
  /** Object size in bytes, trailer included. */
  readonly size: number;
  /** Bytes of the blocks it holds (the sum of their lengths). */
  readonly dataBytes: number;
  /** Number of blocks it holds. */
  readonly blocks: number;
  /** Unix milliseconds. */
  readonly createdAtMs: number;
}

/** A new index entry: a block at a location in a registered pack. */
export interface PackedBlock {
  readonly hash: string;
  readonly packId: string;
  readonly offset: number;
  readonly length: number;
}

/**
 * What indexing a block did: `indexed` (it was absent), `exists` (another location is kept;
 * `existing` is that record, possibly condemned).
 */
export type IndexOutcome =
  { readonly kind: 'indexed' } | { readonly kind: 'exists'; readonly existing: BlockRecord };

/**
 * The namespace's block index: which blocks it holds and where. Every answer costs requests in
 * proportion to the hashes given, never to the size of the index.
 */
export interface BlockIndex {
  /** The records of the given hashes (strongly consistent); absent hashes are missing from the map. */
  lookup(namespaceId: string, hashes: readonly string[]): Promise<Map<string, BlockRecord>>;
  /**
   * Clears a condemnation, only if the record is still condemned at `seenCondemnedAtMs`.
   * Returns the record as it is now: revived, changed by someone else, or undefined when gone.
   */
  revive(namespaceId: string, hash: string, seenCondemnedAtMs: number): Promise<BlockRecord | undefined>;
  /** Records (or re-records, clearing a retirement) a pack; idempotent. */
  putPack(namespaceId: string, pack: PackRecord): Promise<void>;
  /**
   * Indexes each block at its location unless the hash was indexed when read (that location is
   * kept). Two calls indexing one new hash at once may both write it: the later location stands.
   * Each hash at most once per call. Outcomes in the order of `blocks`.
   */
  addBlocks(namespaceId: string, blocks: readonly PackedBlock[], nowMs: number): Promise<IndexOutcome[]>;
  /**
   * Moves a condemned block to a new location and revives it, only if it is still condemned at
   * `seenCondemnedAtMs`. Returns false when the record changed or is gone (look again).
   */
  relocate(
    namespaceId: string,
    block: PackedBlock,
    seenCondemnedAtMs: number,
    nowMs: number,
  ): Promise<boolean>;
}

/** The object store holding packs. */
export interface StoredPack {
  /** Bytes. */
  readonly size: number;
  /** When the object was last written (storage's clock), Unix milliseconds. */
  readonly writtenAtMs: number;
}

export interface PackStorage {
  /** The pack object's size and when it was written, or undefined when there is none. One request. */
  headPack(namespaceId: string, packId: string): Promise<StoredPack | undefined>;
}

export interface Clock {
  now(): number;
}

/** A namespace's journal reached `seq`: some task committed it. */
export interface Advance {
  readonly namespaceId: string;
  readonly seq: number;
}

/**
 * Carries advances between the service's tasks, so a watcher connected to one task hears of a
 * commit another handled. Only a wake-up: watchers read the journal from their own cursor, so a
 * message lost, repeated or out of order costs at most a re-read or the slow safety re-read.
 */
export interface AdvanceFanout {
  /** Tells every task (this one included, perhaps). Best effort: never throws, never waits. */
  publish(advance: Advance): void;
  /** Starts hearing every task's advances; resolves once subscribed. */
  start(onAdvance: (advance: Advance) => void): Promise<void>;
  /** Stops hearing and releases what start made; publishes in flight finish first. */
  stop(): Promise<void>;
}

/** What MetadataStore.listFiles lists. */
export interface ListFilesOptions {
  /** '' (default) for every path; otherwise a folder path: only the paths strictly below it. */
  readonly prefix?: string;
  /** '' (default), or a path: only the paths after it in path order (comparePaths). */
  readonly startAfter?: string;
  /** Ends the read in flight when the caller goes away or its deadline passes. */
  readonly signal?: AbortSignal;
}

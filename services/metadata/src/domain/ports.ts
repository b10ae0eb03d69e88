import type { ChangeEvent, FileEntry, Follow, JournalRecord } from './model';

/** One file of a commit transaction and the version it must still be at. */
export interface FileWrite {
  readonly entry: FileEntry;
  /** 0: the path must not exist yet. */
  readonly expectedVersion: number;
}

/** Everything one commit transaction writes, all or nothing. */
export interface TransactionWrite {
  readonly namespaceId: string;
  /** The namespace head must still be at this sequence (0: no head yet). */
  readonly expectedSeq: number;
  readonly journal: JournalRecord;
  readonly files: readonly FileWrite[];
  readonly event: ChangeEvent;
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
  /** Current entries (tombstones included) of the given paths; absent paths are missing from the map. */
  currentEntries(namespaceId: string, paths: readonly string[]): Promise<Map<string, FileEntry>>;
  /** Commits one transaction; a failed precondition is an outcome, not an exception. */
  commit(write: TransactionWrite): Promise<TransactionOutcome>;
  /** Current entries ordered by path, page by page. */
  listFiles(namespaceId: string): AsyncIterable<readonly FileEntry[]>;
  /** Every version of a path, newest first. */
  listVersions(namespaceId: string, path: string): Promise<FileEntry[]>;
  /** Specific versions, keyed by versionKey(path, version). */
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

export const versionKey = (path: string, version: number) => `${version}:${path}`;

/** Blocks already verified present in storage, remembered so later checks skip storage. */
export interface KnownBlocks {
  /** The subset of hashes recorded as present. */
  known(namespaceId: string, hashes: readonly string[]): Promise<Set<string>>;
  remember(namespaceId: string, hashes: readonly string[]): Promise<void>;
}

/** The object store holding block bytes. */
export interface BlockStorage {
  exists(namespaceId: string, hash: string): Promise<boolean>;
  /**
   * Which of the wanted blocks are stored, by listing the namespace instead of asking per block:
   * cheaper when many are unknown (a first sync). May refuse (e.g. a namespace too large to list
   * or no list permission); the caller then asks per block.
   */
  storedAmong?(namespaceId: string, wanted: ReadonlySet<string>): Promise<Set<string>>;
}

export interface Clock {
  now(): number;
}

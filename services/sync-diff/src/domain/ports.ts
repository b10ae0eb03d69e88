import type { ListingPage, ServerFile } from './diff';

/** On whose behalf and until when a call to the server's file metadata may run. */
export interface CallBudget {
  /** The caller's bearer token, forwarded so metadata applies the caller's own permissions. */
  readonly accessToken: string | undefined;
  readonly deadline: Date;
  readonly signal: AbortSignal;
}

/** One committed batch of the namespace's journal. */
export interface JournalRecord<S extends ServerFile> {
  /** Its sequence: one more than the batch before it. */
  readonly seq: number;
  /** The versions the batch produced (tombstones included). */
  readonly changes: readonly S[];
}

/** One page of the journal after a cursor, oldest first. */
export interface JournalPage<S extends ServerFile> {
  readonly records: readonly JournalRecord<S>[];
  /** The seq of the last record, or the cursor asked for when there is none: where to go on. */
  readonly cursor: number;
  /** More records follow the page. */
  readonly hasMore: boolean;
}

/** The current entries of a prefix of the paths asked for. */
export interface CurrentEntries<S extends ServerFile> {
  /** The entry of each answered path that has one (a path never committed has none). */
  readonly entries: readonly S[];
  /** How many of the paths asked, from the first, the answer covers; ask again for the rest. */
  readonly pathsAnswered: number;
}

/** Server-side file state, as the metadata service reports it. */
export interface ServerFiles<S extends ServerFile> {
  /**
   * Current entries and tombstones of a namespace, page by page in path order; with a non-empty
   * `below` (a folder path), only the paths strictly below it; with a non-empty `after`, only the
   * paths after it (a resumed listing).
   */
  list(
    namespaceId: string,
    budget: CallBudget,
    below?: string,
    after?: string,
  ): AsyncIterable<ListingPage<S>>;
  /**
   * Journal records with a seq greater than `afterCursor`, oldest first, at most `limit` (1 to
   * 1000) of them. A cursor past the journal's head answers no record and `afterCursor`.
   */
  changes(
    namespaceId: string,
    afterCursor: number,
    limit: number,
    budget: CallBudget,
  ): Promise<JournalPage<S>>;
  /**
   * Current entries (tombstones included) of up to LIMITS.maxPathsPerGetFiles distinct canonical
   * paths: cost grows with the paths, never with the namespace. May answer a prefix only.
   */
  currentEntries(
    namespaceId: string,
    paths: readonly string[],
    budget: CallBudget,
  ): Promise<CurrentEntries<S>>;
  /** The given block hashes the namespace lacks, in request order. */
  findMissingBlocks(
    namespaceId: string,
    blockHashes: readonly string[],
    budget: CallBudget,
  ): Promise<string[]>;
}

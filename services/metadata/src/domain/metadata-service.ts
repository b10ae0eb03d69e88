import { LIMITS, RETENTION } from '@filesync/resources';
import { notFound } from '@filesync/server-kit';
import type { BlockLocation, Blocks, PackRegistration, RegisterResult } from './blocks';
import type { Committer } from './commit';
import { singleChangeError } from './change-errors';
import type {
  Actor,
  CommitOptions,
  CommitResult,
  FileChange,
  FileEntry,
  JournalChange,
  JournalRecord,
} from './model';
import { versionKey, type ListFilesOptions, type MetadataStore, type TrashPage } from './ports';
import { CHECK_PATH, Restorer, type RestoreFilesResult, type RestoreResume } from './restore';
import {
  watchJournal,
  WatchHub,
  type WatchMessage,
  type WatchSettings,
  type WatchStreamOptions,
} from './watch';

export { singleChangeError } from './change-errors';

/** Bytes of block lists per ListChanges answer, far below the 16 MB gRPC message limit. */
export const LIST_CHANGES_BYTES = 8 * 1024 * 1024;

/** About the bytes an entry with this many block hashes takes in a message. */
const hashListBytes = (hashes: number) => 256 + 66 * hashes;

export interface JournalPage {
  readonly entries: { seq: number; changes: FileEntry[] }[];
  readonly cursor: number;
  readonly hasMore: boolean;
}

/** The use cases of the metadata service, in domain terms. */
export class MetadataService {
  private readonly restorer: Restorer;
  private readonly watchSettings: WatchSettings;
  /** The task's open watch streams; the committer's onCommitted and the fan-out wake them. */
  readonly watches: WatchHub;

  constructor(
    private readonly store: MetadataStore,
    private readonly committer: Committer,
    private readonly blocks: Blocks,
    /**
     * How long superseded versions are kept (the committer's): for messages about expiry, and to
     * know a journal record too young for its versions to have expired.
     */
    private readonly retentionMs = RETENTION.defaultDays * 24 * 60 * 60 * 1000,
    watch: { hub?: WatchHub; settings?: Partial<WatchSettings> } = {},
  ) {
    this.restorer = new Restorer(store, committer, this.retentionMs);
    this.watches = watch.hub ?? new WatchHub();
    this.watchSettings = {
      heartbeatMs: LIMITS.watchHeartbeatMs,
      pageEntries: LIMITS.watchPageEntries,
      clock: { now: () => Date.now() },
      ...watch.settings,
    };
  }

  commitMany(
    namespaceId: string,
    actor: Actor,
    changes: readonly FileChange[],
    options?: CommitOptions,
  ): Promise<CommitResult> {
    return this.committer.commit(namespaceId, actor, changes, options);
  }

  /** Commits one change; any outcome but success is an error a client can act on. */
  async commitOne(
    namespaceId: string,
    actor: Actor,
    change: FileChange,
    options?: CommitOptions,
  ): Promise<{ entry: FileEntry; cursor: number }> {
    const { outcomes, cursor } = await this.committer.commit(namespaceId, actor, [change], options);
    const outcome = outcomes[0]!;
    if (outcome.kind === 'committed') return { entry: outcome.entry, cursor };
    throw singleChangeError(change, outcome);
  }

  /** The namespace's journal sequence. */
  head(namespaceId: string): Promise<number> {
    return this.store.readHead(namespaceId);
  }

  async getFile(namespaceId: string, path: string): Promise<FileEntry> {
    const entry = (await this.store.currentEntries(namespaceId, [path])).get(path);
    if (!entry) throw notFound(`${path} does not exist in this namespace: ${CHECK_PATH}`);
    return entry;
  }

  /** Current entries (tombstones included) of the given paths; a path never committed is absent. */
  currentEntries(namespaceId: string, paths: readonly string[]): Promise<Map<string, FileEntry>> {
    return this.store.currentEntries(namespaceId, paths);
  }

  /**
   * Current entries in path order, of the whole namespace or of the paths strictly below
   * `options.prefix` ('' = everything), after `options.startAfter` when given. The cursor is read
   * before listing: entries may be newer than it, never older.
   */
  async listFiles(
    namespaceId: string,
    includeDeleted: boolean,
    options: ListFilesOptions = {},
  ): Promise<{ cursor: number; pages: AsyncIterable<FileEntry[]> }> {
    const cursor = await this.store.readHead(namespaceId);
    const source = this.store.listFiles(namespaceId, options);
    async function* pages() {
      for await (const page of source) {
        const entries = includeDeleted ? [...page] : page.filter((entry) => !entry.deleted);
        if (entries.length > 0) yield entries;
      }
    }
    return { cursor, pages: pages() };
  }

  async listVersions(namespaceId: string, path: string): Promise<FileEntry[]> {
    const versions = await this.store.listVersions(namespaceId, path);
    if (versions.length === 0) throw notFound(`${path} has no versions in this namespace: ${CHECK_PATH}`);
    return versions;
  }

  /** The trash at or below `prefix` ('' = everything), a page at a time (issue 8). */
  listTrash(
    namespaceId: string,
    prefix: string,
    afterPath: string | undefined,
    limit: number,
    signal?: AbortSignal,
  ): Promise<TrashPage> {
    return this.restorer.listTrash(namespaceId, prefix, afterPath, limit, signal);
  }

  /** Restores the deleted files at or below `paths` (see Restorer.restoreFiles). */
  restoreFiles(
    namespaceId: string,
    actor: Actor,
    paths: readonly string[],
    options: { resume?: RestoreResume; signal?: AbortSignal } = {},
  ): Promise<RestoreFilesResult> {
    return this.restorer.restoreFiles(namespaceId, actor, paths, {
      ...options,
      maxFiles: LIMITS.maxRestoreFilesPerCall,
    });
  }

  /** Commits an older version of a file on top of the current one (see Restorer.restoreVersion). */
  restoreVersion(
    namespaceId: string,
    actor: Actor,
    path: string,
    version: number,
    baseVersion: number,
  ): Promise<{ entry: FileEntry; cursor: number }> {
    return this.restorer.restoreVersion(namespaceId, actor, path, version, baseVersion);
  }

  follow(namespaceId: string, path: string, actor: Actor): Promise<void> {
    return this.store.putFollow({
      namespaceId,
      path,
      userId: actor.userId,
      email: actor.email,
      emailVerified: actor.emailVerified === true,
    });
  }

  unfollow(namespaceId: string, path: string, actor: Actor): Promise<void> {
    return this.store.deleteFollow(namespaceId, path, actor.userId);
  }

  /**
   * The actor's follows in the namespace, sorted by path ('' first), at most `limit` after the
   * path `after` (undefined: from the start). Reads the namespace's follows (one query: a
   * namespace has as many as its members follow paths, few) and pages them here.
   */
  async listFollows(
    namespaceId: string,
    actor: Actor,
    after: string | undefined,
    limit: number,
  ): Promise<{ paths: string[]; hasMore: boolean }> {
    const paths = (await this.store.listFollows(namespaceId))
      .filter((follow) => follow.userId === actor.userId)
      .map((follow) => follow.path)
      .sort(comparePaths)
      .filter((path) => after === undefined || comparePaths(path, after) > 0);
    return { paths: paths.slice(0, limit), hasMore: paths.length > limit };
  }

  async listChanges(namespaceId: string, afterSeq: number, limit: number): Promise<JournalPage> {
    const listed = await this.store.listJournal(namespaceId, afterSeq, limit);
    // Block lists are read only for the records a page can hold: a committed block is at least
    // chunkMinBytes long (the last one of a file excepted), which bounds a file's list by its size.
    let estimate = 0;
    const records = listed.records.filter((record, index) => {
      estimate += record.changes.reduce(
        (sum, change) => sum + hashListBytes(Math.floor(change.size / LIMITS.chunkMinBytes) + 1),
        0,
      );
      return index === 0 || estimate <= LIST_CHANGES_BYTES;
    });
    const hasMore = listed.hasMore || records.length < listed.records.length;
    // A deletion needs no read of its version's item, nor does a version whose block list the
    // journal carries and whose record is younger than the retention period: it may be superseded,
    // but not for longer than that, so it has not expired (a version expires a retention period
    // after it was superseded, which is after it was committed).
    const nowMs = this.watchSettings.clock.now();
    const inline = (record: JournalRecord, change: JournalChange) =>
      change.blockHashes !== undefined && nowMs < record.committedAtMs + this.retentionMs;
    const refs = records.flatMap((record) =>
      record.changes.flatMap((change) =>
        change.deleted || inline(record, change) ? [] : [{ path: change.path, version: change.version }],
      ),
    );
    const versions = await this.store.getVersions(namespaceId, refs);
    const entries = records.map((record) => ({
      seq: record.seq,
      changes: record.changes.map((change) =>
        inline(record, change)
          ? journalEntry(namespaceId, record, change, change.blockHashes!)
          : (versions.get(versionKey(change.path, change.version)) ??
            journalEntry(namespaceId, record, change, [])),
      ),
    }));
    // A page ends early at a byte budget: entries of files with many blocks are large (kind 10).
    let bytes = 0;
    const kept = entries.filter((entry, index) => {
      bytes += entry.changes.reduce(
        (sum, change) => sum + hashListBytes(change.content?.blockHashes.length ?? 0),
        0,
      );
      return index === 0 || bytes <= LIST_CHANGES_BYTES;
    });
    const last = kept.at(-1);
    return {
      entries: kept,
      cursor: last ? last.seq : afterSeq,
      hasMore: hasMore || kept.length < entries.length,
    };
  }

  /** Push: the journal after `afterSeq`, then each new entry as it commits (see watchJournal). */
  watchChanges(
    namespaceId: string,
    afterSeq: number,
    options: WatchStreamOptions,
  ): AsyncGenerator<WatchMessage> {
    return watchJournal(this, this.watches, this.watchSettings, namespaceId, afterSeq, options);
  }

  findMissingBlocks(namespaceId: string, hashes: readonly string[]): Promise<string[]> {
    return this.blocks.findMissing(namespaceId, hashes);
  }

  registerPacks(namespaceId: string, packs: readonly PackRegistration[]): Promise<RegisterResult> {
    return this.blocks.register(namespaceId, packs);
  }

  locateBlocks(
    namespaceId: string,
    hashes: readonly string[],
  ): Promise<{ locations: BlockLocation[]; missing: string[] }> {
    return this.blocks.locate(namespaceId, hashes);
  }
}

/** Follow paths in code-unit order, the whole namespace ('') first. */
function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A version as its journal record tells it, with `blockHashes` as its block list: the inline list,
 * or none for a superseded version past its retention period (its item is gone; its file has a
 * newer version later in the journal, and its blocks may be collected).
 */
function journalEntry(
  namespaceId: string,
  record: JournalRecord,
  change: JournalChange,
  blockHashes: readonly string[],
): FileEntry {
  return {
    namespaceId,
    path: change.path,
    version: change.version,
    deleted: change.deleted,
    content: change.deleted
      ? undefined
      : { contentHash: change.contentHash, size: change.size, blockHashes: [...blockHashes] },
    modifiedAtMs: change.modifiedAtMs,
    committedAtMs: record.committedAtMs,
    deviceId: record.actor.deviceId,
    journalSeq: record.seq,
    ...(change.movedFrom ? { movedFrom: change.movedFrom } : {}),
    ...(change.movedTo ? { movedTo: change.movedTo } : {}),
  };
}

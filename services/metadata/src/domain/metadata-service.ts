import { LIMITS } from '@filesync/resources';
import { failedPrecondition, invalidArgument, notFound } from '@filesync/server-kit';
import type { BlockLocation, Blocks, PackRegistration, RegisterResult } from './blocks';
import type { Committer } from './commit';
import type { Actor, ChangeOutcome, CommitOptions, CommitResult, FileChange, FileEntry } from './model';
import { versionKey, type MetadataStore } from './ports';

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
  constructor(
    private readonly store: MetadataStore,
    private readonly committer: Committer,
    private readonly blocks: Blocks,
  ) {}

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
    if (!entry) throw notFound(`${path} does not exist in this namespace`);
    return entry;
  }

  /** Current entries (tombstones included) of the given paths; a path never committed is absent. */
  currentEntries(namespaceId: string, paths: readonly string[]): Promise<Map<string, FileEntry>> {
    return this.store.currentEntries(namespaceId, paths);
  }

  /** The cursor is read before listing: entries may be newer than it, never older. */
  async listFiles(
    namespaceId: string,
    includeDeleted: boolean,
  ): Promise<{ cursor: number; pages: AsyncIterable<FileEntry[]> }> {
    const cursor = await this.store.readHead(namespaceId);
    const source = this.store.listFiles(namespaceId);
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
    if (versions.length === 0) throw notFound(`${path} has no versions in this namespace`);
    return versions;
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
    const refs = records.flatMap((record) => record.changes.map(({ path, version }) => ({ path, version })));
    const versions = await this.store.getVersions(namespaceId, refs);
    const entries = records.map((record) => ({
      seq: record.seq,
      changes: record.changes.map(
        (change) =>
          versions.get(versionKey(change.path, change.version)) ?? {
            // A superseded version past its retention period is gone: the journal keeps its facts,
            // not its block list (the file has a newer version, later in the journal).
            namespaceId,
            path: change.path,
            version: change.version,
            deleted: change.deleted,
            content: change.deleted
              ? undefined
              : { contentHash: change.contentHash, size: change.size, blockHashes: [] },
            modifiedAtMs: change.modifiedAtMs,
            committedAtMs: record.committedAtMs,
            deviceId: record.actor.deviceId,
            journalSeq: record.seq,
          },
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

/** The error CommitFile and DeleteFile answer when their one change was not committed. */
export function singleChangeError(
  change: FileChange,
  outcome: Exclude<ChangeOutcome, { kind: 'committed' }>,
) {
  if (outcome.kind === 'missing-blocks') {
    return failedPrecondition(
      `${outcome.blockHashes.length} block(s) of ${change.path} are not in storage: upload them, then commit again`,
      { 'missing-blocks': outcome.blockHashes.join(',') },
    );
  }
  if (outcome.kind === 'rejected') {
    switch (outcome.reason) {
      case 'invalid-path':
      case 'invalid-change':
        return invalidArgument(outcome.message);
      case 'path-clash':
        // Trailer values must be printable ASCII: the path is percent-encoded UTF-8.
        return failedPrecondition(outcome.message, {
          'clashing-path': encodeURIComponent(outcome.clashingPath ?? ''),
        });
      case 'mass-delete':
        return failedPrecondition(outcome.message, { 'mass-delete': 'confirm_mass_delete' });
    }
  }
  const current = outcome.current;
  const isDelete = change.content === undefined;
  if (isDelete && !current) return notFound(`${change.path} does not exist: nothing to delete`);
  const currentVersion = current?.version ?? 0;
  const details = { 'current-version': String(currentVersion) };
  if (isDelete && current?.deleted && current.version === change.baseVersion) {
    return failedPrecondition(`${change.path} is already deleted (version ${currentVersion})`, details);
  }
  return failedPrecondition(
    `${change.path} changed since version ${change.baseVersion}: the current version is ${currentVersion}; ` +
      'fetch it and commit again based on it',
    details,
  );
}

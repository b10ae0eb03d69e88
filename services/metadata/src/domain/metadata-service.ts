import { failedPrecondition, notFound } from '@filesync/server-kit';
import type { BlockChecker } from './block-checker';
import type { Committer } from './commit';
import type { Actor, ChangeOutcome, CommitResult, FileChange, FileEntry } from './model';
import { versionKey, type MetadataStore } from './ports';

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
    private readonly blocks: BlockChecker,
  ) {}

  commitMany(namespaceId: string, actor: Actor, changes: readonly FileChange[]): Promise<CommitResult> {
    return this.committer.commit(namespaceId, actor, changes);
  }

  /** Commits one change; any outcome but success is an error a client can act on. */
  async commitOne(
    namespaceId: string,
    actor: Actor,
    change: FileChange,
  ): Promise<{ entry: FileEntry; cursor: number }> {
    const { outcomes, cursor } = await this.committer.commit(namespaceId, actor, [change]);
    const outcome = outcomes[0]!;
    if (outcome.kind === 'committed') return { entry: outcome.entry, cursor };
    throw singleChangeError(change, outcome);
  }

  async getFile(namespaceId: string, path: string): Promise<FileEntry> {
    const entry = (await this.store.currentEntries(namespaceId, [path])).get(path);
    if (!entry) throw notFound(`${path} does not exist in this namespace`);
    return entry;
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
    const { records, hasMore } = await this.store.listJournal(namespaceId, afterSeq, limit);
    const refs = records.flatMap((record) => record.changes.map(({ path, version }) => ({ path, version })));
    const versions = await this.store.getVersions(namespaceId, refs);
    const entries = records.map((record) => ({
      seq: record.seq,
      changes: record.changes.map(
        (change) =>
          versions.get(versionKey(change.path, change.version)) ?? {
            // The version item is written in the same transaction; this only guards a manual cleanup.
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
    const last = records.at(-1);
    return { entries, cursor: last ? last.seq : afterSeq, hasMore };
  }

  findMissingBlocks(namespaceId: string, hashes: readonly string[]): Promise<string[]> {
    return this.blocks.findMissing(namespaceId, hashes);
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

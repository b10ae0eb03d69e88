/**
 * In-memory fakes of the domain ports for unit tests (no network, no AWS). The store applies a
 * transaction's conditions all or nothing, the way DynamoDB's TransactWriteItems does.
 */
import { comparePaths, contentHash, isAtOrBelow } from '@filesync/sync-core';
import { Blocks } from '../domain/blocks';
import { Committer, type CommitterOptions } from '../domain/commit';
import { ancestorsOf } from '../domain/tree';
import type {
  Actor,
  ChangeEvent,
  FileChange,
  FileEntry,
  Follow,
  JournalRecord,
  TrashEntry,
} from '../domain/model';
import {
  versionKey,
  type BlockIndex,
  type BlockRecord,
  type HeadState,
  type IndexOutcome,
  type MetadataStore,
  type PackRecord,
  type PackStorage,
  type PackedBlock,
  type TransactionOutcome,
  type TransactionWrite,
  type TrashPage,
  type ListFilesOptions,
  type TrashQuery,
} from '../domain/ports';

export class InMemoryStore implements MetadataStore {
  readonly heads = new Map<string, number>();
  readonly headStates = new Map<string, HeadState>();
  readonly files = new Map<string, FileEntry>();
  /** Superseded versions (the current one is in `files`), with the time they expire at (Unix ms). */
  readonly versions = new Map<string, { entry: FileEntry; expiresAtMs: number }>();
  readonly journal: JournalRecord[] = [];
  readonly events: ChangeEvent[] = [];
  readonly follows: Follow[] = [];
  readonly transactions: TransactionWrite[] = [];
  /**
   * The trash index: tombstones that superseded a live version, by `namespace\u0000path`, as
   * the DynamoDB adapter's sparse index holds them (a commit that makes the path live drops it).
   */
  readonly trash = new Map<string, TrashEntry>();
  /** listTrash calls and the entries they read, so tests can tell what a listing cost. */
  readonly trashReads = { calls: 0, entries: 0 };
  /** Folder markers (MetadataStore.markFolders), as `namespace\u0000folder`. */
  readonly folderMarkers = new Set<string>();
  /** The clock expiry is judged by; committerSetup shares the committer's. */
  now: () => number = () => Date.now();
  /** Runs before each commit is applied: lets a test play a concurrent writer. */
  beforeCommit: ((write: TransactionWrite) => void) | undefined;

  private fileId = (ns: string, path: string) => `${ns}\u0000${path}`;

  async readHead(namespaceId: string) {
    return this.heads.get(namespaceId) ?? 0;
  }

  async readHeadState(namespaceId: string): Promise<HeadState> {
    const seq = this.heads.get(namespaceId) ?? 0;
    const state = this.headStates.get(namespaceId);
    // Entries put directly by a test count as live files from before the window.
    const live = [...this.files.values()].filter(
      (entry) => entry.namespaceId === namespaceId && !entry.deleted,
    ).length;
    return state && state.seq === seq ? state : { seq, live, window: undefined };
  }

  async liveAmong(namespaceId: string, paths: readonly string[]) {
    const live = new Set<string>();
    for (const path of paths) {
      const entry = this.files.get(this.fileId(namespaceId, path));
      if (entry && !entry.deleted) live.add(path);
    }
    return live;
  }

  async firstLiveBelow(namespaceId: string, folder: string, ignoring: ReadonlySet<string>) {
    return [...this.files.values()]
      .filter(
        (entry) =>
          entry.namespaceId === namespaceId &&
          !entry.deleted &&
          entry.path.startsWith(`${folder}/`) &&
          !ignoring.has(entry.path),
      )
      .map((entry) => entry.path)
      .sort()[0];
  }

  async foldersAmong(namespaceId: string, paths: readonly string[]) {
    return new Set(paths.filter((path) => this.folderMarkers.has(this.fileId(namespaceId, path))));
  }

  async markFolders(namespaceId: string, folders: readonly string[]) {
    for (const folder of folders) this.folderMarkers.add(this.fileId(namespaceId, folder));
  }

  async currentEntries(namespaceId: string, paths: readonly string[]) {
    const result = new Map<string, FileEntry>();
    for (const path of paths) {
      const entry = this.files.get(this.fileId(namespaceId, path));
      if (entry) result.set(path, entry);
    }
    return result;
  }

  async commit(write: TransactionWrite): Promise<TransactionOutcome> {
    this.transactions.push(write);
    const hook = this.beforeCommit;
    this.beforeCommit = undefined;
    hook?.(write);
    const raced = (this.heads.get(write.namespaceId) ?? 0) !== write.expectedSeq;
    const conflictingPaths = write.files
      .filter(({ entry, expectedVersion }) => {
        const current = this.files.get(this.fileId(write.namespaceId, entry.path));
        return expectedVersion === 0 ? current !== undefined : current?.version !== expectedVersion;
      })
      .map(({ entry }) => entry.path);
    if (raced || conflictingPaths.length > 0) return { kind: 'rejected', conflictingPaths, raced };
    this.heads.set(write.namespaceId, write.journal.seq);
    this.headStates.set(write.namespaceId, write.head);
    for (const { entry, superseded } of write.files) {
      if (superseded) {
        this.versions.set(`${write.namespaceId}\u0000${versionKey(superseded.path, superseded.version)}`, {
          entry: superseded,
          expiresAtMs: write.supersededExpireAtMs,
        });
      }
      this.put(entry);
      const id = this.fileId(write.namespaceId, entry.path);
      if (entry.deleted && superseded && !superseded.deleted) {
        this.trash.set(id, {
          path: entry.path,
          version: entry.version,
          deletedAtMs: entry.committedAtMs,
          deviceId: entry.deviceId,
          expiresAtMs: write.supersededExpireAtMs,
          size: superseded.content?.size ?? 0,
        });
      } else {
        this.trash.delete(id);
      }
    }
    this.journal.push(write.journal);
    this.events.push(write.event);
    return { kind: 'committed' };
  }

  /** Writes a current entry directly, as another writer would (marking its folders first, as every writer does). */
  put(entry: FileEntry) {
    for (const folder of ancestorsOf(entry.path))
      this.folderMarkers.add(this.fileId(entry.namespaceId, folder));
    this.files.set(this.fileId(entry.namespaceId, entry.path), entry);
  }

  /** Superseded versions still retained. */
  private retained(namespaceId: string): FileEntry[] {
    const nowMs = this.now();
    return [...this.versions.values()]
      .filter(({ entry, expiresAtMs }) => entry.namespaceId === namespaceId && expiresAtMs > nowMs)
      .map(({ entry, expiresAtMs }) => ({ ...entry, expiresAtMs }));
  }

  async *listFiles(namespaceId: string, { prefix = '', startAfter = '' }: ListFilesOptions = {}) {
    const entries = [...this.files.values()]
      .filter((entry) => entry.namespaceId === namespaceId)
      .filter((entry) => prefix === '' || entry.path.startsWith(`${prefix}/`))
      .filter((entry) => startAfter === '' || comparePaths(entry.path, startAfter) > 0)
      .sort((a, b) => comparePaths(a.path, b.path));
    for (let index = 0; index < entries.length; index += 3) yield entries.slice(index, index + 3);
  }

  async listTrash(namespaceId: string, query: TrashQuery): Promise<TrashPage> {
    this.trashReads.calls += 1;
    const nowMs = this.now();
    const below = [...this.trash]
      .filter(([id]) => id.startsWith(`${namespaceId}\u0000`))
      .map(([, entry]) => entry)
      .filter((entry) => isAtOrBelow(entry.path, query.prefix));
    this.trashReads.entries += below.length;
    const listed = below
      .filter(
        (entry) =>
          entry.expiresAtMs > nowMs &&
          (query.afterPath === undefined || comparePaths(entry.path, query.afterPath) > 0),
      )
      .sort((a, b) => comparePaths(a.path, b.path));
    return { entries: listed.slice(0, query.limit), hasMore: listed.length > query.limit };
  }

  async listVersions(namespaceId: string, path: string) {
    const current = this.files.get(this.fileId(namespaceId, path));
    const older = this.retained(namespaceId).filter(
      (entry) => entry.path === path && entry.version !== current?.version,
    );
    return [...(current ? [current] : []), ...older].sort((a, b) => b.version - a.version);
  }

  async getVersions(namespaceId: string, refs: readonly { path: string; version: number }[]) {
    const retained = new Map(
      this.retained(namespaceId).map((entry) => [versionKey(entry.path, entry.version), entry]),
    );
    const result = new Map<string, FileEntry>();
    for (const { path, version } of refs) {
      const current = this.files.get(this.fileId(namespaceId, path));
      const entry = current?.version === version ? current : retained.get(versionKey(path, version));
      if (entry) result.set(versionKey(path, version), entry);
    }
    return result;
  }

  async listJournal(namespaceId: string, afterSeq: number, limit: number) {
    const records = this.journal.filter(
      (record) => record.namespaceId === namespaceId && record.seq > afterSeq,
    );
    return { records: records.slice(0, limit), hasMore: records.length > limit };
  }

  async listFollows(namespaceId: string) {
    return this.follows.filter((follow) => follow.namespaceId === namespaceId);
  }

  async putFollow(follow: Follow) {
    await this.deleteFollow(follow.namespaceId, follow.path, follow.userId);
    this.follows.push(follow);
  }

  async deleteFollow(namespaceId: string, path: string, userId: string) {
    const index = this.follows.findIndex(
      (follow) => follow.namespaceId === namespaceId && follow.path === path && follow.userId === userId,
    );
    if (index >= 0) this.follows.splice(index, 1);
  }
}

/**
 * The block index as a map (a fake of the DynamoDB adapter): records keyed `<namespace>/<hash>`;
 * `calls` counts requests by method, so tests can tell what a use case asked of the index.
 */
export class InMemoryBlockIndex implements BlockIndex {
  readonly blocks = new Map<string, BlockRecord>();
  readonly packs = new Map<string, PackRecord & { retiredAtMs?: number }>();
  readonly calls = { lookup: 0, revive: 0, putPack: 0, addBlocks: 0, relocate: 0 };
  /** Runs before each conditional write: lets a test play a concurrent collector. */
  beforeWrite: ((hash: string) => void) | undefined;

  /** Indexes blocks as stored before packs (objects of their own). */
  add(namespaceId: string, ...hashes: string[]) {
    for (const hash of hashes) {
      this.blocks.set(`${namespaceId}/${hash}`, {
        hash,
        packId: undefined,
        offset: 0,
        length: 0,
        createdAtMs: 1,
        condemnedAtMs: undefined,
      });
    }
  }

  condemn(namespaceId: string, hash: string, atMs: number) {
    const key = `${namespaceId}/${hash}`;
    this.blocks.set(key, { ...this.blocks.get(key)!, condemnedAtMs: atMs });
  }

  async lookup(namespaceId: string, hashes: readonly string[]) {
    this.calls.lookup += 1;
    const found = new Map<string, BlockRecord>();
    for (const hash of hashes) {
      const record = this.blocks.get(`${namespaceId}/${hash}`);
      if (record) found.set(hash, record);
    }
    return found;
  }

  async revive(namespaceId: string, hash: string, seenCondemnedAtMs: number) {
    this.calls.revive += 1;
    this.beforeWrite?.(hash);
    const key = `${namespaceId}/${hash}`;
    const record = this.blocks.get(key);
    if (record?.condemnedAtMs === seenCondemnedAtMs)
      this.blocks.set(key, { ...record, condemnedAtMs: undefined });
    return this.blocks.get(key);
  }

  async putPack(namespaceId: string, pack: PackRecord) {
    this.calls.putPack += 1;
    const key = `${namespaceId}/${pack.packId}`;
    this.packs.set(key, { ...pack, createdAtMs: this.packs.get(key)?.createdAtMs ?? pack.createdAtMs });
  }

  async addBlocks(
    namespaceId: string,
    blocks: readonly PackedBlock[],
    nowMs: number,
  ): Promise<IndexOutcome[]> {
    this.calls.addBlocks += 1;
    return blocks.map((block) => {
      this.beforeWrite?.(block.hash);
      const key = `${namespaceId}/${block.hash}`;
      const existing = this.blocks.get(key);
      if (existing) return { kind: 'exists', existing };
      this.blocks.set(key, packedRecord(block, nowMs));
      return { kind: 'indexed' };
    });
  }

  async relocate(namespaceId: string, block: PackedBlock, seenCondemnedAtMs: number, nowMs: number) {
    this.calls.relocate += 1;
    this.beforeWrite?.(block.hash);
    const key = `${namespaceId}/${block.hash}`;
    if (this.blocks.get(key)?.condemnedAtMs !== seenCondemnedAtMs) return false;
    this.blocks.set(key, packedRecord(block, nowMs));
    return true;
  }
}

const packedRecord = (block: PackedBlock, nowMs: number): BlockRecord => ({
  hash: block.hash,
  packId: block.packId,
  offset: block.offset,
  length: block.length,
  createdAtMs: nowMs,
  condemnedAtMs: undefined,
});

/** Pack objects as a map of sizes and write times (a fake of the S3 adapter); `heads` counts the requests. */
export class InMemoryPackStorage implements PackStorage {
  readonly objects = new Map<string, { size: number; writtenAtMs: number }>();
  heads = 0;
  put(namespaceId: string, packId: string, size: number, writtenAtMs = 0) {
    this.objects.set(`${namespaceId}/${packId}`, { size, writtenAtMs });
  }
  async headPack(namespaceId: string, packId: string) {
    this.heads += 1;
    return this.objects.get(`${namespaceId}/${packId}`);
  }
}

/** Block-index use cases over fresh fakes; the clock reads `now`. */
export function blocksSetup(now = 5_000) {
  const index = new InMemoryBlockIndex();
  const packs = new InMemoryPackStorage();
  return { index, packs, blocks: new Blocks(index, packs, { now: () => now }) };
}

export const NS = 'ns-1';
export const ACTOR: Actor = { userId: 'user-1', deviceId: 'device-1', email: 'one@example.com' };

/** A deterministic block hash for tests. */
export const hashOf = (n: number) => n.toString(16).padStart(64, '0');

export function contentChange(path: string, baseVersion: number, blocks: number[] = [1]): FileChange {
  const blockHashes = blocks.map(hashOf);
  return {
    path,
    baseVersion,
    modifiedAtMs: 1_000,
    content: { contentHash: contentHash(blockHashes), size: blocks.length * 10, blockHashes },
  };
}

export const deleteChange = (path: string, baseVersion: number): FileChange => ({
  path,
  baseVersion,
  modifiedAtMs: 2_000,
  content: undefined,
});

export function entry(path: string, version: number, deleted = false): FileEntry {
  return {
    namespaceId: NS,
    path,
    version,
    deleted,
    content: deleted ? undefined : { contentHash: 'h', size: 1, blockHashes: [hashOf(1)] },
    modifiedAtMs: 0,
    committedAtMs: 0,
    deviceId: 'device-0',
    journalSeq: version,
  };
}

/**
 * A Committer over fresh in-memory fakes whose block index (`storage`) holds blocks 1 to 20
 * (`hashOf`); the clock reads 5 000 and retries do not wait unless `options` says otherwise.
 */
export function committerSetup(options: Partial<CommitterOptions> = {}) {
  const store = new InMemoryStore();
  const { index: storage, blocks } = blocksSetup();
  storage.add(NS, ...Array.from({ length: 20 }, (_, index) => hashOf(index + 1)));
  const committer = new Committer({
    store,
    blocks,
    clock: { now: () => 5_000 },
    sleep: async () => undefined,
    ...options,
  });
  const clock = options.clock ?? { now: () => 5_000 };
  store.now = () => clock.now();
  return { store, storage, blocks, committer };
}

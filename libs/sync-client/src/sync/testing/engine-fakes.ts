/**
 * Fakes of the engine's ports for unit tests (no network, no storage service). Test-only: nothing
 * in the package entry points imports this folder, and the build inputs leave `testing/` out.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { chunkBuffer, contentHash, readPackTrailer } from '@filesync/sync-core';
import { inlineHasher } from '../../hashing/hash-file';
import { StateDb } from '../../state/state-db';
import { StorageObjectGoneError, type BlockStore } from '../../storage/block-store';
import { syncFolder, type EngineDeps, type SyncOptions } from '../engine';
import type {
  ActionKind,
  ChangeOutcome,
  DiffAction,
  FileChange,
  FileContent,
  ManifestEntry,
  PathRejection,
  ServerEntry,
} from '../model';
import type { CommitOptions, LocatedBlocks, PackRecord, SyncRemote } from '../remote';
import type { SyncSummary } from '../summary';

/** In-memory block storage (a fake of the BlockStore port). */
export class MemoryBlocks implements BlockStore {
  readonly stored = new Map<string, Uint8Array>();
  /** prepare() calls (BlockStore.prepare: the pass expects bytes to move). */
  prepared = 0;
  prepare() {
    this.prepared++;
  }
  async put(_ns: string, hash: string, bytes: Uint8Array) {
    if (this.stored.has(hash)) return 'exists' as const;
    this.stored.set(hash, bytes);
    return 'uploaded' as const;
  }
  /** Pack objects by id; their blocks also land in `stored`, so reads by hash find them. */
  readonly packs = new Map<string, Uint8Array>();
  async putPack(_ns: string, packId: string, bytes: Uint8Array) {
    if (this.packs.has(packId)) return 'exists' as const;
    // A copy: the caller may reuse its buffer once the write is done, as with real storage.
    const data = Buffer.from(bytes);
    this.packs.set(packId, data);
    for (const block of readPackTrailer(data, data.byteLength))
      if (!this.stored.has(block.hash))
        this.stored.set(block.hash, data.subarray(block.offset, block.offset + block.length));
    return 'uploaded' as const;
  }
  async get(_ns: string, hash: string) {
    const bytes = this.stored.get(hash);
    if (!bytes) throw new Error(`no block ${hash}`);
    return bytes;
  }
  async getRange(
    _ns: string,
    packId: string,
    offset: number,
    length: number,
    into?: Uint8Array,
  ): Promise<Uint8Array> {
    const pack = this.packs.get(packId);
    if (!pack || offset + length > pack.byteLength) throw new StorageObjectGoneError(`no pack ${packId}`);
    // Into the caller's buffer when it lends one, as S3BlockStore does.
    if (!into) return pack.subarray(offset, offset + length);
    into.set(pack.subarray(offset, offset + length));
    return into.subarray(0, length);
  }
  /** Puts a file's blocks in storage, as if another device had uploaded it. */
  async seed(text: string): Promise<FileContent> {
    const bytes = Buffer.from(text);
    for (const chunk of chunkBuffer(bytes))
      await this.put('ns', chunk.hash, bytes.subarray(chunk.offset, chunk.offset + chunk.length));
    return contentOf(text);
  }
}

/**
 * A scripted fake of the server side. Diff runs `beforeDiff` (the tree changing mid-pass), then
 * answers the given actions. A commit succeeds with the next version unless its path has a
 * scripted conflict or rejection (each answered once) or the whole call is scripted to fail.
 */
export class ScriptedRemote implements SyncRemote {
  /** The manifest of each Diff call. */
  readonly manifests: ManifestEntry[][] = [];
  /** The changes the server committed, in call order. */
  readonly commits: FileChange[] = [];
  /** The paths of each CommitFiles call, in call order. */
  readonly calls: string[][] = [];
  /** The options of each CommitFiles call, in call order. */
  readonly options: (CommitOptions | undefined)[] = [];
  readonly conflicts = new Map<string, ServerEntry>();
  readonly rejections = new Map<string, Omit<PathRejection, 'kind' | 'path'>>();
  /** Paths whose next commit answers these blocks missing (as after the collector deleted them). */
  readonly missingBlocks = new Map<string, string[]>();
  /** When set, every CommitFiles call fails as a whole with this error. */
  failCallsWith: Error | undefined;
  constructor(
    private readonly actions: DiffAction[],
    private readonly beforeDiff: () => Promise<unknown> = async () => undefined,
  ) {}

  async diff(_ns: string, manifest: Iterable<ManifestEntry>) {
    this.manifests.push([...manifest]);
    await this.beforeDiff();
    return { actions: this.actions, cursor: 7 };
  }
  /** Every block is answered as a legacy object of its own (MemoryBlocks keeps packed blocks by hash too). */
  async locateBlocks(_ns: string, hashes: readonly string[]): Promise<LocatedBlocks> {
    return { locations: hashes.map((hash) => ({ hash, packId: '', offset: 0, length: 0 })), missing: [] };
  }
  async findMissingBlocks(_ns: string, hashes: readonly string[]) {
    return [...hashes];
  }
  /** The packs of each RegisterPacks call, in call order. */
  readonly registered: PackRecord[][] = [];
  async registerPacks(_ns: string, packs: readonly PackRecord[]) {
    this.registered.push([...packs]);
  }
  async commitFiles(_ns: string, changes: readonly FileChange[], options?: CommitOptions) {
    this.options.push(options);
    this.calls.push(changes.map((change) => change.path));
    if (this.failCallsWith) throw this.failCallsWith;
    const results = changes.map((change): ChangeOutcome => {
      const { path } = change;
      const conflict = this.conflicts.get(path);
      if (conflict) {
        this.conflicts.delete(path);
        return { kind: 'conflict', path, current: conflict };
      }
      const missing = this.missingBlocks.get(path);
      if (missing) {
        this.missingBlocks.delete(path);
        return { kind: 'missing-blocks', path, blockHashes: missing };
      }
      const rejection = this.rejections.get(path);
      if (rejection) {
        this.rejections.delete(path);
        return { kind: 'rejected', path, ...rejection };
      }
      this.commits.push(change);
      return { kind: 'committed', path, entry: entry(path, change.baseVersion + 1, change.content) };
    });
    return { results, cursor: 8 };
  }
}

/** The content record of a file holding `text`. */
export function contentOf(text: string): FileContent {
  const chunks = chunkBuffer(Buffer.from(text));
  return {
    contentHash: contentHash(chunks.map((c) => c.hash)),
    size: Buffer.byteLength(text),
    blockHashes: chunks.map((c) => c.hash),
  };
}

/** A server entry from another device; a tombstone when `content` is absent. */
export function entry(
  path: string,
  version: number,
  content?: FileContent,
  modifiedAtMs = 1_700_000_000_000,
): ServerEntry {
  return {
    path,
    version,
    deleted: content === undefined,
    contentHash: content?.contentHash ?? '',
    size: content?.size ?? 0,
    blockHashes: content?.blockHashes ?? [],
    modifiedAtMs,
    journalSeq: version,
    movedFrom: '',
    movedTo: '',
  };
}

/**
 * The engine's dependencies around the given fakes: hashing inline, silent logs, device `laptop`
 * and a clock stopped at 2026-01-02 03:04:05 (conflicted copies are named after both).
 */
export function engineDeps(
  deps: Pick<EngineDeps, 'state' | 'blocks' | 'remote'> & Partial<EngineDeps>,
): EngineDeps {
  return {
    hasher: inlineHasher,
    logger: pino({ level: 'silent' }),
    deviceLabel: 'laptop',
    now: () => new Date(2026, 0, 2, 3, 4, 5),
    ...deps,
  };
}

/** A Diff action on `path`; `server` is the server's side of it, when it has one. */
export function act(kind: ActionKind, path: string, baseVersion: number, server?: ServerEntry): DiffAction {
  return { path, kind, baseVersion, server };
}

/** A synced folder on disk with its client state (in memory) and block storage. */
export interface EngineFolder {
  readonly root: string;
  readonly state: StateDb;
  readonly blocks: MemoryBlocks;
}

/** A fresh, empty folder in namespace `ns`; `closeEngineFolder` removes it. */
export async function openEngineFolder(label: string): Promise<EngineFolder> {
  return {
    root: await mkdtemp(join(tmpdir(), `${label}-`)),
    state: StateDb.open(':memory:'),
    blocks: new MemoryBlocks(),
  };
}

export async function closeEngineFolder(folder: EngineFolder): Promise<void> {
  folder.state.close();
  await rm(folder.root, { recursive: true, force: true });
}

/** One pass of the engine over the folder against `remote`. */
export function runEngine(
  folder: EngineFolder,
  remote: SyncRemote,
  options: SyncOptions = {},
): Promise<SyncSummary> {
  const { root, state, blocks } = folder;
  return syncFolder(root, 'ns', engineDeps({ state, blocks, remote }), options);
}

/** A local file this device synced at `version` and has not changed since. */
export async function markSynced(
  folder: EngineFolder,
  path: string,
  text: string,
  version = 1,
): Promise<void> {
  const abs = join(folder.root, ...path.split('/'));
  await mkdir(dirname(abs), { recursive: true });
  await writeFile(abs, text);
  const now = await stat(abs);
  const content = contentOf(text);
  folder.state.put(folder.root, {
    path,
    baseVersion: version,
    baseContentHash: content.contentHash,
    size: now.size,
    mtimeMs: now.mtimeMs,
    contentHash: content.contentHash,
    blocks: chunkBuffer(Buffer.from(text)).map(({ hash, offset, length }) => ({ hash, offset, length })),
  });
}

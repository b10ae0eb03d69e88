/**
 * An in-memory model of the services a sync pass talks to (sync-diff and metadata), for the
 * randomized model test: the same diff rule (decide, from sync-core), a journal with a cursor,
 * full and incremental diffs, optimistic commits, the tree rule, and a version history. It is a
 * model, not a second implementation to ship: where the services batch or index, it loops.
 * Test-only, like the rest of testing/.
 */
import { comparePaths, decide } from '@filesync/sync-core';
import type { ChangeOutcome, DiffAction, FileChange, ManifestEntry, ServerEntry } from '../model';
import type { CommitOptions, DiffOptions, DiffOutcome, PackRecord, SyncRemote } from '../remote';
import { MemoryBlocks } from './engine-fakes';

const isBelow = (path: string, folder: string) => path.startsWith(`${folder}/`);

/** Paths a full diff merges between two progress reports: few, so histories break off mid-diff. */
const PROGRESS_EVERY = 3;

/** A failure the test injects into one call (the network, or a crash of the client mid-pass). */
export class InjectedFailure extends Error {
  override name = 'InjectedFailure';
}

/** A version as the model server keeps it: the entry, and the device that committed it. */
export interface ModelEntry extends ServerEntry {
  readonly deviceId: string;
}

/** A tombstone's content: none. */
const NO_CONTENT = { contentHash: '', size: 0, blockHashes: [] } as const;

export class ModelServer {
  /** Current entry per path, tombstones included. */
  readonly files = new Map<string, ModelEntry>();
  /** Every version ever committed, in commit order. */
  readonly history: ModelEntry[] = [];
  /** One journal entry per committed change; its index + 1 is its seq. */
  private readonly journal: ModelEntry[] = [];
  /** Full diffs that resumed an earlier one (the model test checks its histories make some). */
  resumedDiffs = 0;
  /** Block storage every device shares (packs land here by block hash too). */
  readonly blocks = new MemoryBlocks();

  get head(): number {
    return this.journal.length;
  }

  /** The server as one device sees it; `fail` decides, per call, whether to fail it instead. */
  remoteFor(deviceId: string, fail: (call: string) => boolean = () => false): SyncRemote {
    const maybeFail = (call: string) => {
      if (fail(call)) throw new InjectedFailure(`injected failure of ${call}`);
    };
    return {
      diff: async (_ns: string, manifest: Iterable<ManifestEntry>, options: DiffOptions = {}) => {
        maybeFail('diff');
        if ((options.sinceCursor ?? 0) > 0) return this.diff([...manifest], options.sinceCursor ?? 0);
        // A full diff may break off after any progress report, as a stream does.
        return this.fullDiff([...manifest], options, () => maybeFail('diff midway'));
      },
      findMissingBlocks: async (_ns: string, hashes: readonly string[]) => {
        maybeFail('findMissingBlocks');
        return hashes.filter((hash) => !this.blocks.stored.has(hash));
      },
      locateBlocks: async (_ns: string, hashes: readonly string[]) => {
        maybeFail('locateBlocks');
        const missing = hashes.filter((hash) => !this.blocks.stored.has(hash));
        const locations = hashes
          .filter((hash) => this.blocks.stored.has(hash))
          .map((hash) => ({ hash, packId: '', offset: 0, length: 0 }));
        return { locations, missing };
      },
      registerPacks: async (_ns: string, _packs: readonly PackRecord[]) => {
        maybeFail('registerPacks');
      },
      commitFiles: async (_ns: string, changes: readonly FileChange[], _options?: CommitOptions) => {
        maybeFail('commitFiles');
        const outcome = this.commit(deviceId, changes);
        // A crash after the server committed, before the client heard back.
        maybeFail('commitFiles answer');
        return outcome;
      },
    };
  }

  /**
   * A full diff as sync-diff answers one (resumed after `options.resumeAfter`: the manifest's paths
   * at or before it decided against their current entries, the rest merged with the listing after
   * it), reporting progress every PROGRESS_EVERY paths and at the end as the gRPC adapter does.
   * `midway` runs after each report and may throw: the diff broke off there.
   */
  private fullDiff(
    manifest: readonly ManifestEntry[],
    options: DiffOptions,
    midway: () => void,
  ): DiffOutcome {
    const after = options.resumeAfter ?? '';
    if (after !== '') this.resumedDiffs += 1;
    const cursor = this.head;
    const named = new Map(manifest.map((entry) => [entry.path, entry]));
    const isAfter = (path: string) => after === '' || comparePaths(path, after) > 0;
    const paths = [...new Set([...named.keys(), ...[...this.files.keys()].filter(isAfter)])].sort(
      comparePaths,
    );
    const actions: DiffAction[] = [];
    let reported = 0;
    let throughPath = '';
    const report = (path: string) => {
      throughPath = path;
      options.onProgress?.({ throughPath, cursor, actions: actions.slice(reported), unrecognized: 0 });
      reported = actions.length;
    };
    let merged = 0;
    for (const path of paths) {
      const decision = decide(named.get(path), this.files.get(path));
      if (decision) actions.push({ ...decision, path });
      // Progress counts the merge after the resume point only, as sync-diff's does.
      if (isAfter(path) && ++merged % PROGRESS_EVERY === 0) {
        report(path);
        midway();
      }
    }
    const last = actions.at(-1)?.path;
    if (reported < actions.length || throughPath !== '') {
      report(last !== undefined && comparePaths(last, throughPath) > 0 ? last : throughPath);
    }
    return { actions, cursor, resumeAfter: after };
  }

  private diff(manifest: readonly ManifestEntry[], sinceCursor: number): DiffOutcome {
    const named = new Map(manifest.map((entry) => [entry.path, entry]));
    const actions: DiffAction[] = [];
    const decideOne = (path: string, local: ManifestEntry | undefined) => {
      const decision = decide(local, this.files.get(path));
      if (decision) actions.push({ ...decision, path });
    };
    if (sinceCursor > this.head) return { actions: [], cursor: 0, fullDiffRequired: true, incremental: true };
    if (sinceCursor === 0) {
      const paths = [...new Set([...named.keys(), ...this.files.keys()])].sort(comparePaths);
      for (const path of paths) decideOne(path, named.get(path));
      return { actions, cursor: this.head };
    }
    const changed = new Set(this.journal.slice(sinceCursor).map((entry) => entry.path));
    const paths = [...new Set([...named.keys(), ...changed])].sort(comparePaths);
    for (const path of paths) {
      const local = named.get(path);
      if (local) {
        decideOne(path, local);
        continue;
      }
      const server = this.files.get(path)!;
      // As sync-diff does: a move's arrival whose unnamed source still holds the move's tombstone.
      const source = server.movedFrom ? this.files.get(server.movedFrom) : undefined;
      const moved = !named.has(server.movedFrom) && source?.deleted === true && source.movedTo === path;
      actions.push({
        path,
        kind: server.deleted ? 'delete-local' : moved ? 'move-local' : 'download',
        baseVersion: 0,
        server,
      });
    }
    return { actions, cursor: this.head, incremental: true };
  }

  private commit(deviceId: string, changes: readonly FileChange[]) {
    const deleting = new Set([
      ...changes.filter((change) => change.content === undefined).map((change) => change.path),
      ...changes.flatMap((change) => (change.moveFrom ? [change.moveFrom.path] : [])),
    ]);
    const isLive = (path: string) => {
      const current = this.files.get(path);
      return current !== undefined && !current.deleted && !deleting.has(path);
    };
    const results = changes.map((change): ChangeOutcome => {
      const { path, content, moveFrom } = change;
      const current = this.files.get(path);
      const currentVersion = current?.version ?? 0;
      if (change.baseVersion !== currentVersion || (!content && (!current || current.deleted))) {
        return { kind: 'conflict', path, current: current ?? this.absent(path) };
      }
      const source = moveFrom ? this.files.get(moveFrom.path) : undefined;
      if (moveFrom) {
        // As metadata does: a free target, and the source live at the version and content moved.
        if (current && !current.deleted) return { kind: 'conflict', path, current };
        if (
          !source ||
          source.deleted ||
          source.version !== moveFrom.baseVersion ||
          source.contentHash !== content?.contentHash
        ) {
          return { kind: 'conflict', path, current: source ?? this.absent(moveFrom.path) };
        }
      }
      if (content) {
        const missing = moveFrom ? [] : content.blockHashes.filter((hash) => !this.blocks.stored.has(hash));
        if (missing.length > 0) return { kind: 'missing-blocks', path, blockHashes: missing };
        if (!current || current.deleted) {
          const clashing =
            [...this.files.keys()].find((other) => isBelow(path, other) && isLive(other)) ??
            [...this.files.keys()].find((other) => isBelow(other, path) && isLive(other));
          if (clashing !== undefined) {
            return {
              kind: 'rejected',
              path,
              reason: 'path-clash',
              clashingPath: clashing,
              message: `${path} clashes with ${clashing}`,
            };
          }
        }
      }
      if (source) {
        const tombstone: ModelEntry = {
          ...source,
          ...NO_CONTENT,
          version: source.version + 1,
          deleted: true,
          modifiedAtMs: change.modifiedAtMs,
          deviceId,
          journalSeq: this.head + 1,
          movedFrom: '',
          movedTo: path,
        };
        this.files.set(source.path, tombstone);
        this.history.push(tombstone);
        this.journal.push(tombstone);
      }
      const entry: ModelEntry = {
        path,
        version: currentVersion + 1,
        deleted: !content,
        ...(content ?? NO_CONTENT),
        modifiedAtMs: change.modifiedAtMs,
        deviceId,
        journalSeq: this.head + 1,
        movedFrom: moveFrom?.path ?? '',
        movedTo: '',
      };
      this.files.set(path, entry);
      this.history.push(entry);
      this.journal.push(entry);
      return { kind: 'committed', path, entry };
    });
    return { results, cursor: this.head };
  }

  private absent(path: string): ModelEntry {
    return {
      path,
      version: 0,
      deleted: true,
      ...NO_CONTENT,
      modifiedAtMs: 0,
      deviceId: '',
      journalSeq: 0,
      movedFrom: '',
      movedTo: '',
    };
  }

  /** The live files' contents by path, read back from block storage. */
  liveTree(): Map<string, string> {
    const tree = new Map<string, string>();
    for (const entry of this.files.values()) {
      if (entry.deleted) continue;
      const bytes = entry.blockHashes.map((hash) => Buffer.from(this.blocks.stored.get(hash)!));
      tree.set(entry.path, Buffer.concat(bytes).toString());
    }
    return tree;
  }
}

/**
 * An in-memory model of the services a sync pass talks to (sync-diff and metadata), for the
 * randomized model test: the same diff rule (decide, from sync-core), a journal with a cursor,
 * full and incremental diffs, optimistic commits, the tree rule, and a version history. It is a
 * model, not a second implementation to ship: where the services batch or index, it loops.
 * Test-only, like the rest of testing/.
 */
import { common, metadata, syncdiff } from '@filesync/contracts';
import { comparePaths, decide, type LocalEntry } from '@filesync/sync-core';
import {
  ACTION_OF,
  type CommitOptions,
  type DiffOptions,
  type DiffOutcome,
  type PackRecord,
  type SyncRemote,
} from '../remote';
import { MemoryBlocks } from './engine-fakes';

const isBelow = (path: string, folder: string) => path.startsWith(`${folder}/`);

/** A failure the test injects into one call (the network, or a crash of the client mid-pass). */
export class InjectedFailure extends Error {
  override name = 'InjectedFailure';
}

export class ModelServer {
  /** Current entry per path, tombstones included. */
  readonly files = new Map<string, common.FileEntry>();
  /** Every version ever committed, in commit order. */
  readonly history: common.FileEntry[] = [];
  /** One journal entry per committed change; its index + 1 is its seq. */
  private readonly journal: common.FileEntry[] = [];
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
      diff: async (_ns: string, manifest: Iterable<syncdiff.ManifestEntry>, options: DiffOptions = {}) => {
        maybeFail('diff');
        return this.diff([...manifest], options.sinceCursor ?? 0);
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
      commitFiles: async (_ns: string, changes: metadata.FileChange[], _options?: CommitOptions) => {
        maybeFail('commitFiles');
        const outcome = this.commit(deviceId, changes);
        // A crash after the server committed, before the client heard back.
        maybeFail('commitFiles answer');
        return outcome;
      },
    };
  }

  private diff(manifest: readonly syncdiff.ManifestEntry[], sinceCursor: number): DiffOutcome {
    const named = new Map(manifest.map((entry) => [entry.path, entry]));
    const actions: syncdiff.DiffAction[] = [];
    const decideOne = (path: string, local: LocalEntry | undefined) => {
      const server = this.files.get(path);
      const decision = decide(local, server && { ...server, contentHash: server.content?.contentHash ?? '' });
      if (decision) {
        actions.push({
          path,
          kind: ACTION_OF[decision.kind],
          baseVersion: decision.baseVersion,
          serverEntry: server,
        });
      }
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
        kind: server.deleted
          ? ACTION_OF['delete-local']
          : moved
            ? ACTION_OF['move-local']
            : ACTION_OF.download,
        baseVersion: 0,
        serverEntry: server,
      });
    }
    return { actions, cursor: this.head, incremental: true };
  }

  private commit(deviceId: string, changes: readonly metadata.FileChange[]) {
    const deleting = new Set([
      ...changes.filter((change) => change.delete).map((change) => change.path),
      ...changes.filter((change) => change.moveFrom !== '').map((change) => change.moveFrom),
    ]);
    const isLive = (path: string) => {
      const current = this.files.get(path);
      return current !== undefined && !current.deleted && !deleting.has(path);
    };
    const results = changes.map((change): metadata.CommitResult => {
      const { path } = change;
      const current = this.files.get(path);
      const currentVersion = current?.version ?? 0;
      if (change.baseVersion !== currentVersion || (change.delete && (!current || current.deleted))) {
        return { path, outcome: { $case: 'conflict', value: current ?? this.absent(path) } };
      }
      const source = change.moveFrom ? this.files.get(change.moveFrom) : undefined;
      if (change.moveFrom) {
        // As metadata does: a free target, and the source live at the version and content moved.
        if (current && !current.deleted) return { path, outcome: { $case: 'conflict', value: current } };
        if (
          !source ||
          source.deleted ||
          source.version !== change.moveFromBaseVersion ||
          source.content?.contentHash !== change.content?.contentHash
        ) {
          return { path, outcome: { $case: 'conflict', value: source ?? this.absent(change.moveFrom) } };
        }
      }
      if (!change.delete) {
        const missing = change.moveFrom
          ? []
          : (change.content?.blockHashes ?? []).filter((hash) => !this.blocks.stored.has(hash));
        if (missing.length > 0) {
          return { path, outcome: { $case: 'missingBlocks', value: { blockHashes: missing } } };
        }
        if (!current || current.deleted) {
          const clashing =
            [...this.files.keys()].find((other) => isBelow(path, other) && isLive(other)) ??
            [...this.files.keys()].find((other) => isBelow(other, path) && isLive(other));
          if (clashing !== undefined) {
            return {
              path,
              outcome: {
                $case: 'rejected',
                value: {
                  reason: metadata.RejectionReason.REJECTION_REASON_PATH_CLASH,
                  clashingPath: clashing,
                  message: `${path} clashes with ${clashing}`,
                },
              },
            };
          }
        }
      }
      if (source) {
        const tombstone: common.FileEntry = {
          ...source,
          version: source.version + 1,
          deleted: true,
          content: undefined,
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
      const entry: common.FileEntry = {
        namespaceId: 'ns',
        path,
        version: currentVersion + 1,
        deleted: change.delete,
        content: change.delete ? undefined : change.content,
        modifiedAtMs: change.modifiedAtMs,
        committedAtMs: 0,
        deviceId,
        journalSeq: this.head + 1,
        movedFrom: change.moveFrom,
        movedTo: '',
      };
      this.files.set(path, entry);
      this.history.push(entry);
      this.journal.push(entry);
      return { path, outcome: { $case: 'committed', value: entry } };
    });
    return { results, cursor: this.head };
  }

  private absent(path: string): common.FileEntry {
    return {
      namespaceId: 'ns',
      path,
      version: 0,
      deleted: true,
      content: undefined,
      modifiedAtMs: 0,
      committedAtMs: 0,
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
      const bytes = (entry.content?.blockHashes ?? []).map((hash) =>
        Buffer.from(this.blocks.stored.get(hash)!),
      );
      tree.set(entry.path, Buffer.concat(bytes).toString());
    }
    return tree;
  }
}

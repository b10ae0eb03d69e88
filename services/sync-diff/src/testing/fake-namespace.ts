/**
 * An in-memory fake of the metadata port for unit tests (no network): one namespace with current
 * entries and a journal, changed only through `commit`, so its answers stay consistent with each
 * other the way metadata's are. It records every call, to count what a diff costs.
 */
import type { common } from '@filesync/contracts';
import { comparePaths } from '@filesync/sync-core';
import type { MetadataFile } from '../adapters/metadata-files';
import type { ListingPage } from '../domain/diff';
import type { CallBudget, CurrentEntries, JournalPage, JournalRecord, ServerFiles } from '../domain/ports';

export const FAKE_NS = 'ns-1';

/**
 * One change of a fake commit: new content (its hash) or a deletion; `movedFrom` / `movedTo` mark
 * the two halves of a move (see common.FileEntry).
 */
export type FakeChange = (
  { readonly path: string; readonly contentHash: string } | { readonly path: string; readonly deleted: true }
) & { readonly movedFrom?: string; readonly movedTo?: string };

export interface FakeCall {
  readonly method: 'list' | 'changes' | 'currentEntries' | 'findMissingBlocks';
  readonly budget: CallBudget;
  /** changes: the cursor asked after; currentEntries: how many paths were asked. */
  readonly argument?: number;
}

export class FakeNamespace implements ServerFiles<MetadataFile> {
  readonly calls: FakeCall[] = [];
  /** Most paths one currentEntries call answers: metadata answers a prefix when block lists are long. */
  answerAtMost = Number.POSITIVE_INFINITY;
  private readonly journal: JournalRecord<MetadataFile>[] = [];
  private readonly current = new Map<string, MetadataFile>();

  /** The journal's head: the seq of the last commit, 0 before the first. */
  get head(): number {
    return this.journal.length;
  }

  /** Commits the changes as one journal record and returns its seq. */
  commit(changes: readonly FakeChange[]): number {
    const seq = this.journal.length + 1;
    const files = changes.map((change) => {
      const version = (this.current.get(change.path)?.version ?? 0) + 1;
      const file = fakeFile(change, version, seq);
      this.current.set(change.path, file);
      return file;
    });
    this.journal.push({ seq, changes: files });
    return seq;
  }

  /** The current entry of a path, as GetFiles would answer it. */
  entry(path: string): MetadataFile | undefined {
    return this.current.get(path);
  }

  countOf(method: FakeCall['method']): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  async *list(
    _namespaceId: string,
    budget: CallBudget,
    below = '',
    after = '',
  ): AsyncGenerator<ListingPage<MetadataFile>> {
    this.calls.push({ method: 'list', budget });
    const cursor = this.head;
    const entries = [...this.current.values()]
      .filter((file) => below === '' || file.path.startsWith(`${below}/`))
      .filter((file) => after === '' || comparePaths(file.path, after) > 0)
      .sort((a, b) => comparePaths(a.path, b.path));
    for (let start = 0; start < entries.length; start += 500) {
      yield { cursor, entries: entries.slice(start, start + 500) };
    }
    if (entries.length === 0) yield { cursor, entries: [] };
  }

  async changes(
    _namespaceId: string,
    afterCursor: number,
    limit: number,
    budget: CallBudget,
  ): Promise<JournalPage<MetadataFile>> {
    this.calls.push({ method: 'changes', budget, argument: afterCursor });
    const records = this.journal.slice(afterCursor, afterCursor + limit);
    return {
      records,
      cursor: records.at(-1)?.seq ?? afterCursor,
      hasMore: afterCursor + records.length < this.journal.length,
    };
  }

  async currentEntries(
    _namespaceId: string,
    paths: readonly string[],
    budget: CallBudget,
  ): Promise<CurrentEntries<MetadataFile>> {
    this.calls.push({ method: 'currentEntries', budget, argument: paths.length });
    const pathsAnswered = Math.min(paths.length, this.answerAtMost);
    const entries = paths.slice(0, pathsAnswered).flatMap((path) => this.current.get(path) ?? []);
    return { entries, pathsAnswered };
  }

  async findMissingBlocks(_namespaceId: string, _hashes: readonly string[], budget: CallBudget) {
    this.calls.push({ method: 'findMissingBlocks', budget });
    return [];
  }
}

function fakeFile(change: FakeChange, version: number, seq: number): MetadataFile {
  const deleted = 'deleted' in change;
  const contentHash = deleted ? '' : change.contentHash;
  const entry: common.FileEntry = {
    namespaceId: FAKE_NS,
    path: change.path,
    version,
    content: deleted ? undefined : { contentHash, size: 1, blockHashes: [] },
    deleted,
    modifiedAtMs: 0,
    committedAtMs: 0,
    deviceId: 'other-device',
    journalSeq: seq,
    movedFrom: change.movedFrom ?? '',
    movedTo: change.movedTo ?? '',
  };
  const moved = {
    ...(change.movedFrom ? { movedFrom: change.movedFrom } : {}),
    ...(change.movedTo ? { movedTo: change.movedTo } : {}),
  };
  return { path: change.path, version, deleted, contentHash, ...moved, entry };
}

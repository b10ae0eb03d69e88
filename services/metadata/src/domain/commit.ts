import { unavailable } from '@filesync/server-kit';
import { buildChangeEvent } from './change-event';
import { buildJournal, buildWrites, chunkChanges, planChanges } from './commit-plan';
import type { BlockChecker } from './block-checker';
import type { Actor, ChangeOutcome, CommitResult, FileChange, FileEntry, Follow } from './model';
import type { Clock, MetadataStore } from './ports';

export interface CommitterOptions {
  readonly store: MetadataStore;
  readonly blocks: BlockChecker;
  readonly clock: Clock;
  readonly maxFilesPerTransaction: number;
  /** How often one transaction is retried after losing a race for the namespace head. */
  readonly maxRaceRetries?: number;
  /** Called once after a call committed anything (wakes the outbox relay). */
  readonly onCommitted?: () => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Commits a batch of validated changes of one namespace: changes naming missing blocks and
 * changes with a stale base are reported and change nothing; the others are written in
 * transactions of bounded size, each one journal entry and one change event.
 */
export class Committer {
  private readonly maxRaceRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: CommitterOptions) {
    this.maxRaceRetries = options.maxRaceRetries ?? 12;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async commit(namespaceId: string, actor: Actor, changes: readonly FileChange[]): Promise<CommitResult> {
    const { store } = this.options;
    const outcomes = new Map<string, ChangeOutcome>();

    const ready = await this.withoutMissingBlocks(namespaceId, changes, outcomes);
    const current = await store.currentEntries(
      namespaceId,
      ready.map((change) => change.path),
    );
    const { accepted, rejected } = planChanges(ready, current);
    for (const outcome of rejected) outcomes.set(outcome.path, outcome);

    let head = await store.readHead(namespaceId);
    if (accepted.length > 0) {
      const follows = await store.listFollows(namespaceId);
      for (const chunk of chunkChanges(accepted, this.options.maxFilesPerTransaction)) {
        head = await this.commitChunk(namespaceId, actor, chunk, head, follows, outcomes);
      }
      if ([...outcomes.values()].some((outcome) => outcome.kind === 'committed')) {
        this.options.onCommitted?.();
      }
    }
    return {
      outcomes: changes.map((change) => outcomes.get(change.path)!),
      cursor: head,
    };
  }

  private async withoutMissingBlocks(
    namespaceId: string,
    changes: readonly FileChange[],
    outcomes: Map<string, ChangeOutcome>,
  ): Promise<FileChange[]> {
    const hashes = changes.flatMap((change) => change.content?.blockHashes ?? []);
    const missing = new Set(await this.options.blocks.findMissing(namespaceId, hashes));
    if (missing.size === 0) return [...changes];
    return changes.filter((change) => {
      const absent = [...new Set(change.content?.blockHashes ?? [])].filter((hash) => missing.has(hash));
      if (absent.length === 0) return true;
      outcomes.set(change.path, { kind: 'missing-blocks', path: change.path, blockHashes: absent });
      return false;
    });
  }

  /**
   * Writes one transaction, dropping files that turn out to conflict and retrying the rest; a
   * race for the head is retried at the new sequence. Returns the head after the transaction.
   */
  private async commitChunk(
    namespaceId: string,
    actor: Actor,
    chunk: readonly FileChange[],
    startHead: number,
    follows: readonly Follow[],
    outcomes: Map<string, ChangeOutcome>,
  ): Promise<number> {
    const { store, clock } = this.options;
    let head = startHead;
    let pending = [...chunk];
    let races = 0;
    while (pending.length > 0) {
      const seq = head + 1;
      const committedAtMs = clock.now();
      const files = buildWrites(namespaceId, pending, seq, committedAtMs, actor);
      const journal = buildJournal(namespaceId, seq, committedAtMs, actor, files);
      const event = buildChangeEvent(journal, follows);
      const result = await store.commit({ namespaceId, expectedSeq: head, journal, files, event });
      if (result.kind === 'committed') {
        for (const { entry } of files)
          outcomes.set(entry.path, { kind: 'committed', path: entry.path, entry });
        return seq;
      }
      if (result.conflictingPaths.length > 0) {
        await this.reportConflicts(namespaceId, result.conflictingPaths, outcomes);
        const conflicting = new Set(result.conflictingPaths);
        pending = pending.filter((change) => !conflicting.has(change.path));
      }
      if (result.raced || result.conflictingPaths.length === 0) {
        races += 1;
        if (races > this.maxRaceRetries) {
          throw unavailable('the namespace is busy with other commits: retry shortly');
        }
        await this.sleep(Math.min(250, 5 * 2 ** races) * (0.5 + Math.random()));
        head = await store.readHead(namespaceId);
      }
    }
    return head;
  }

  private async reportConflicts(
    namespaceId: string,
    paths: readonly string[],
    outcomes: Map<string, ChangeOutcome>,
  ): Promise<void> {
    const current: Map<string, FileEntry> = await this.options.store.currentEntries(namespaceId, paths);
    for (const path of paths) outcomes.set(path, { kind: 'conflict', path, current: current.get(path) });
  }
}

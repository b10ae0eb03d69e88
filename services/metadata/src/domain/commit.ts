import { LIMITS, RETENTION } from '@filesync/resources';
import { unavailable } from '@filesync/server-kit';
import { pairMoves } from '@filesync/sync-core';
import { buildChangeEvent } from './change-event';
import { buildJournal, buildWrites, chunkChanges, planChanges } from './commit-plan';
import type { Blocks } from './blocks';
import { needsConfirmation, nextHead } from './deletion-window';
import type {
  Actor,
  ChangeOutcome,
  CommitOptions,
  CommitResult,
  FileChange,
  FileEntry,
  Follow,
  PathRejection,
} from './model';
import { findClashes } from './tree';
import type { Clock, HeadState, MetadataStore } from './ports';

export interface CommitterOptions {
  readonly store: MetadataStore;
  readonly blocks: Pick<Blocks, 'missingForCommit'>;
  readonly clock: Clock;
  /** Items per commit transaction, its own 3 included (default LIMITS.maxItemsPerTransaction). */
  readonly maxItemsPerTransaction?: number;
  /**
   * How long a superseded version (an old version, a deleted file's last content) stays
   * retrievable, in milliseconds; 0 = not at all. Default RETENTION.defaultDays.
   */
  readonly retentionMs?: number;
  /** How often one transaction is retried after losing a race for the namespace head. */
  readonly maxRaceRetries?: number;
  /**
   * Called once after a call committed anything, with the namespace and the journal sequence its
   * last transaction wrote (wakes the outbox relay and the namespace's watchers).
   */
  readonly onCommitted?: (namespaceId: string, seq: number) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface ChunkContext {
  readonly follows: readonly Follow[];
  /** Per accepted path: its current entry, which the commit supersedes. */
  readonly current: ReadonlyMap<string, FileEntry>;
  /** Per accepted path: its current version is a live file. */
  readonly wasLive: ReadonlyMap<string, boolean>;
  /**
   * The request's moves: deletion path → the path of the creation that receives its content.
   * A move is not counted by the mass-delete rule; a pair whose creation is dropped before it
   * commits is removed, so its deletion counts again.
   */
  readonly moves: Map<string, string>;
  /** The request's counted deletions not yet committed or refused; once refused, all of them are. */
  readonly deletions: { left: number; refused: boolean };
  /** Creations whose move deletion the rule refused: committing them alone would duplicate a file. */
  readonly refusedPartners: Set<string>;
  readonly confirmMassDelete: boolean;
  /**
   * The head the next transaction is conditioned on: the one read with the commit's entries, then
   * the one this call's last transaction wrote.
   */
  head?: HeadState;
}

function massDeleteRejection(path: string): PathRejection {
  return {
    kind: 'rejected',
    path,
    reason: 'mass-delete',
    message:
      `${path} was not deleted: with the namespace's other deletions of the last hour this would delete ` +
      'all of its files or most of many; the user must confirm the deletion (filesync sync --force)',
  };
}

function refusedMoveRejection(path: string): PathRejection {
  return {
    kind: 'rejected',
    path,
    reason: 'mass-delete',
    message:
      `${path} was not created: it belongs to a refused move (the deletion of a file with this ` +
      'content in the same request was refused as a mass deletion); the user must confirm the ' +
      'deletion (filesync sync --force)',
  };
}

/**
 * Issue 6, kind 2: a deletion whose current content the same request makes live at another path
 * is a move, which the mass-delete rule does not count (sync-core's pairMoves).
 */
function findMoves(
  accepted: readonly FileChange[],
  current: ReadonlyMap<string, FileEntry>,
): Map<string, string> {
  const deletions = accepted.filter((change) => !change.content);
  // A move carries its own deletion: it excuses no other.
  const creations = accepted.filter((change) => change.content && !change.moveFrom);
  const partners = pairMoves(
    deletions.map((change) => ({
      path: change.path,
      contentHash: current.get(change.path)?.content?.contentHash ?? '',
    })),
    creations.map((change) => ({ path: change.path, contentHash: change.content!.contentHash })),
  );
  const moves = new Map<string, string>();
  partners.forEach((partner, index) => {
    if (partner !== undefined) moves.set(deletions[index]!.path, creations[partner]!.path);
  });
  for (const change of accepted) if (change.moveFrom) moves.set(change.moveFrom.path, change.path);
  return moves;
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
  private readonly fileItems: number;
  private readonly retentionMs: number;

  constructor(private readonly options: CommitterOptions) {
    this.maxRaceRetries = options.maxRaceRetries ?? 12;
    this.sleep = options.sleep ?? defaultSleep;
    this.fileItems =
      (options.maxItemsPerTransaction ?? LIMITS.maxItemsPerTransaction) - LIMITS.transactionOverheadItems;
    this.retentionMs = options.retentionMs ?? RETENTION.defaultDays * 24 * 60 * 60 * 1000;
  }

  async commit(
    namespaceId: string,
    actor: Actor,
    changes: readonly FileChange[],
    options: CommitOptions = { confirmMassDelete: false },
  ): Promise<CommitResult> {
    const { store } = this.options;
    const outcomes = new Map<string, ChangeOutcome>();

    // The reads a commit is decided on do not depend on each other, so they go out together: on a
    // one-file edit that is one round trip to the table instead of four before the transaction.
    // A creation (base version 0) is not read: its transaction is conditioned on the path being
    // absent, and a path that exists after all is reported as a conflict from there. A first sync
    // of many files then reads no entries at all. A move's target is read too (it must be free),
    // and its source (live at the version moved). The head and the follows are read even for a
    // call that turns out to write nothing: a cheap read, against a round trip for every commit.
    const [ready, current, follows, headState] = await Promise.all([
      this.withoutMissingBlocks(namespaceId, changes, outcomes),
      store.currentEntries(namespaceId, [
        ...changes
          .filter((change) => change.baseVersion > 0 || !change.content || change.moveFrom)
          .map((change) => change.path),
        ...changes.flatMap((change) => (change.moveFrom ? [change.moveFrom.path] : [])),
      ]),
      store.listFollows(namespaceId),
      store.readHeadState(namespaceId),
    ]);
    const { accepted, rejected } = planChanges(ready, current);
    for (const outcome of rejected) outcomes.set(outcome.path, outcome);
    const wasLive = new Map(
      accepted.map((change) => {
        const entry = current.get(change.path);
        return [change.path, entry !== undefined && !entry.deleted] as const;
      }),
    );

    let head = headState.seq;
    if (accepted.length > 0) {
      // Deletions first, so a file replaced by a folder (or a folder by a file) in one request
      // is gone before the new path is checked against the tree.
      const ordered = [
        ...accepted.filter((change) => !change.content),
        ...accepted.filter((change) => change.content),
      ];
      const moves = findMoves(accepted, current);
      const context: ChunkContext = {
        follows,
        current,
        wasLive,
        moves,
        deletions: {
          left: ordered.filter((change) => !change.content && !moves.has(change.path)).length,
          refused: false,
        },
        refusedPartners: new Set(),
        confirmMassDelete: options.confirmMassDelete,
        // The first transaction is conditioned on it; a commit that moved it since makes it retry.
        head: headState,
      };
      for (const chunk of chunkChanges(ordered, current, this.fileItems)) {
        head = await this.commitChunk(namespaceId, actor, chunk, context, outcomes);
      }
      if ([...outcomes.values()].some((outcome) => outcome.kind === 'committed')) {
        this.options.onCommitted?.(namespaceId, head);
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
    // A move's content is its source's (planChanges checks it), whose blocks a commit checked.
    const hashes = changes.flatMap((change) => (change.moveFrom ? [] : (change.content?.blockHashes ?? [])));
    const missing = new Set(await this.options.blocks.missingForCommit(namespaceId, hashes));
    if (missing.size === 0) return [...changes];
    return changes.filter((change) => {
      if (change.moveFrom) return true;
      const absent = [...new Set(change.content?.blockHashes ?? [])].filter((hash) => missing.has(hash));
      if (absent.length === 0) return true;
      outcomes.set(change.path, { kind: 'missing-blocks', path: change.path, blockHashes: absent });
      return false;
    });
  }

  /**
   * Writes one transaction, dropping files that turn out to conflict, clash with the tree or
   * delete too much, and retrying the rest; a race for the head is retried at the new sequence,
   * with the tree and mass-delete checks made again against it. Returns the head after the
   * transaction.
   */
  private async commitChunk(
    namespaceId: string,
    actor: Actor,
    chunk: readonly FileChange[],
    context: ChunkContext,
    outcomes: Map<string, ChangeOutcome>,
  ): Promise<number> {
    const { store, clock } = this.options;
    let pending = [...chunk];
    let races = 0;
    // Read before the tree is checked: the transaction is conditioned on this sequence. After a
    // transaction of this call the head it wrote is known; if another commit moved it since, the
    // condition fails and the head is read again below.
    let headState = context.head ?? (await store.readHeadState(namespaceId));
    const counted = (changes: readonly FileChange[]) =>
      changes.filter((change) => !change.content && !context.moves.has(change.path)).length;
    context.deletions.left -= counted(chunk);
    while (pending.length > 0) {
      const committedAtMs = clock.now();
      const deletions = pending.filter((change) => !change.content);
      // The rule counts the request's deletions still to come too, and once it refuses one it
      // refuses all, moves included: a request is never cut into a deleted half and a refused half.
      const counting = counted(pending) + context.deletions.left;
      if (
        deletions.length > 0 &&
        !context.confirmMassDelete &&
        (context.deletions.refused || (counting > 0 && needsConfirmation(headState, committedAtMs, counting)))
      ) {
        context.deletions.refused = true;
        for (const change of deletions) {
          outcomes.set(change.path, massDeleteRejection(change.path));
          const partner = context.moves.get(change.path);
          if (partner !== undefined) context.refusedPartners.add(partner);
        }
        pending = pending.filter((change) => change.content);
      }
      // A creation that only receives a refused deletion's content would leave a duplicate.
      const orphans = pending.filter((change) => context.refusedPartners.has(change.path));
      if (orphans.length > 0) {
        for (const change of orphans) outcomes.set(change.path, refusedMoveRejection(change.path));
        pending = pending.filter((change) => !context.refusedPartners.has(change.path));
      }
      if (pending.length === 0) break;

      // A move's source leaves the tree in the same transaction.
      const sources = pending.flatMap((change) =>
        change.moveFrom
          ? [{ ...change.moveFrom, content: undefined, modifiedAtMs: change.modifiedAtMs }]
          : [],
      );
      const clashes = await findClashes(store, namespaceId, [...sources, ...pending], context.wasLive);
      if (clashes.length > 0) {
        for (const clash of clashes) outcomes.set(clash.path, clash);
        const clashing = new Set(clashes.map((clash) => clash.path));
        pending = pending.filter((change) => !clashing.has(change.path));
        // A move whose creation is refused loses its file: its deletion counts, so check again.
        if (this.unpairMoves(context, clashing, pending)) continue;
        if (pending.length === 0) break;
      }

      const seq = headState.seq + 1;
      const files = buildWrites(namespaceId, pending, seq, committedAtMs, actor, context.current);
      const journal = buildJournal(namespaceId, seq, committedAtMs, actor, files);
      const event = buildChangeEvent(journal, context.follows);
      const created = files.filter((file) => !file.wasLive && !file.entry.deleted).length;
      const deletedFiles = files.filter((file) => file.wasLive && file.entry.deleted);
      const head = nextHead(headState, seq, committedAtMs, {
        created,
        deleted: deletedFiles.length,
        moved: deletedFiles.filter((file) => context.moves.has(file.entry.path)).length,
        confirmed: context.confirmMassDelete,
      });
      const result = await store.commit({
        namespaceId,
        expectedSeq: headState.seq,
        head,
        journal,
        files,
        event,
        supersededExpireAtMs: committedAtMs + this.retentionMs,
      });
      if (result.kind === 'committed') {
        context.head = head;
        // A move's source tombstone is no change of the request: only its target is answered.
        for (const { entry } of files)
          if (!entry.movedTo) outcomes.set(entry.path, { kind: 'committed', path: entry.path, entry });
        return seq;
      }
      if (result.conflictingPaths.length > 0) {
        // A move's source that changed meanwhile fails the move, reported at the move's path.
        const moveOf = new Map(
          pending.flatMap((change) => (change.moveFrom ? [[change.moveFrom.path, change.path]] : [])),
        );
        await this.reportConflicts(namespaceId, result.conflictingPaths, outcomes, moveOf);
        const conflicting = new Set(result.conflictingPaths.map((path) => moveOf.get(path) ?? path));
        pending = pending.filter((change) => !conflicting.has(change.path));
        this.unpairMoves(context, conflicting, pending);
      }
      if (result.raced || result.conflictingPaths.length === 0) {
        races += 1;
        if (races > this.maxRaceRetries) {
          throw unavailable('the namespace is busy with other commits: retry shortly');
        }
        await this.sleep(Math.min(250, 5 * 2 ** races) * (0.5 + Math.random()));
        headState = await store.readHeadState(namespaceId);
      }
    }
    return headState.seq;
  }

  /**
   * Forgets the moves whose creation was dropped (`dropped`) while their deletion is still
   * `pending`: that deletion is an ordinary one from now on. True when any move was forgotten.
   */
  private unpairMoves(
    context: ChunkContext,
    dropped: ReadonlySet<string>,
    pending: readonly FileChange[],
  ): boolean {
    let forgotten = false;
    for (const change of pending) {
      const partner = context.moves.get(change.path);
      if (!change.content && partner !== undefined && dropped.has(partner)) {
        context.moves.delete(change.path);
        forgotten = true;
      }
    }
    return forgotten;
  }

  /** `moveOf`: a move's source path → the move's path, under which its conflict is reported. */
  private async reportConflicts(
    namespaceId: string,
    paths: readonly string[],
    outcomes: Map<string, ChangeOutcome>,
    moveOf: ReadonlyMap<string, string> = new Map(),
  ): Promise<void> {
    const current: Map<string, FileEntry> = await this.options.store.currentEntries(namespaceId, paths);
    for (const path of paths) {
      const reported = moveOf.get(path) ?? path;
      outcomes.set(reported, { kind: 'conflict', path: reported, current: current.get(path) });
    }
  }
}

import {
  JOURNAL_INLINE_BLOCKS,
  type Actor,
  type ChangeOutcome,
  type FileChange,
  type FileEntry,
  type JournalRecord,
} from './model';
import type { FileWrite } from './ports';

/**
 * Decides which changes may be committed against the current entries. A change applies only to
 * the version it names: anything else is a conflict, never an overwrite. New content based on a
 * tombstone's version is allowed (an edit wins over a delete); deleting an absent or already
 * deleted path is refused.
 */
export function planChanges(
  changes: readonly FileChange[],
  current: ReadonlyMap<string, FileEntry>,
): { accepted: FileChange[]; rejected: ChangeOutcome[] } {
  const accepted: FileChange[] = [];
  const rejected: ChangeOutcome[] = [];
  for (const change of changes) {
    const entry = current.get(change.path);
    const currentVersion = entry?.version ?? 0;
    const isDelete = change.content === undefined;
    const nothingToDelete = isDelete && (entry === undefined || entry.deleted);
    // A move needs a free target and its source live at the version and content it names.
    const targetTaken = change.moveFrom !== undefined && entry !== undefined && !entry.deleted;
    if (change.baseVersion !== currentVersion || nothingToDelete || targetTaken) {
      rejected.push({ kind: 'conflict', path: change.path, current: entry });
    } else if (change.moveFrom && !sourceHolds(change, current.get(change.moveFrom.path))) {
      rejected.push({ kind: 'conflict', path: change.path, current: current.get(change.moveFrom.path) });
    } else {
      accepted.push(change);
    }
  }
  return { accepted, rejected };
}

/** A move's source is still what the client moved: live, at the named version, with this content. */
function sourceHolds(change: FileChange, source: FileEntry | undefined): boolean {
  return (
    source !== undefined &&
    !source.deleted &&
    source.version === change.moveFrom!.baseVersion &&
    source.content?.contentHash === change.content?.contentHash
  );
}

/** DynamoDB caps a transaction at 4 MB; stay well below with the estimate below. */
export const MAX_TRANSACTION_BYTES = 3 * 1024 * 1024;

/**
 * Issue 6, kind 10: a longer block list is stored apart from the entry (content-addressed items
 * written before the transaction), so neither the 400 KB item limit nor the 4 MB transaction
 * limit caps a file's size. Up to this many hashes (about 70 KB) stay in the entry itself.
 */
export const MAX_INLINE_BLOCK_HASHES = 1000;

/**
 * Paths appear in the journal item, the outbox item and the SQS event (once per change and once
 * per recipient): this budget per transaction keeps a batch of 4 KiB paths far below the 400 KB
 * item and 256 KB message limits (issue 6, kind 9).
 */
export const MAX_TRANSACTION_PATH_BYTES = 40 * 1024;

/**
 * Block hashes per transaction: a journal entry is answered whole by ListChanges, so its files'
 * block lists (64 bytes a hash) must fit one gRPC message with room to spare (kind 10). A
 * single file with more still gets its own transaction.
 */
export const MAX_TRANSACTION_BLOCK_HASHES = 100_000;

const pathBytes = (change: FileChange) =>
  Buffer.byteLength(change.path, 'utf8') + Buffer.byteLength(change.moveFrom?.path ?? '', 'utf8');
const hashCount = (change: FileChange) => change.content?.blockHashes.length ?? 0;

/**
 * Items one file adds to a commit transaction: its current entry, and the version it supersedes
 * (kept for the retention period) unless the path is new. So a new file costs 1, an edit, a
 * deletion or a file made again over its tombstone 2 (see LIMITS.maxItemsPerTransaction); a move
 * 2 more, for its source's tombstone and superseded version.
 */
export function transactionItems(change: FileChange, previous: FileEntry | undefined): number {
  return (previous ? 2 : 1) + (change.moveFrom ? 2 : 0);
}

const entryBytes = (path: string, hashes: number) =>
  512 + 3 * Buffer.byteLength(path, 'utf8') + (hashes <= MAX_INLINE_BLOCK_HASHES ? hashes : 0) * 70;

/** Rough bytes one file costs in a transaction: its new entry and the copy of the version it supersedes. */
export function estimatedWriteBytes(change: FileChange, previous?: FileEntry): number {
  return (
    entryBytes(change.path, hashCount(change)) +
    (previous ? entryBytes(previous.path, previous.content?.blockHashes.length ?? 0) : 0) +
    // A move's source: its tombstone and the superseded version with the block list.
    (change.moveFrom
      ? entryBytes(change.moveFrom.path, 0) + entryBytes(change.moveFrom.path, hashCount(change))
      : 0)
  );
}

/**
 * Splits accepted changes into transactions of at most maxItems file items (transactionItems,
 * given each path's current entry in `current`) and about maxBytes bytes, keeping request order.
 * A single oversized change still gets its own transaction.
 */
export function chunkChanges(
  changes: readonly FileChange[],
  current: ReadonlyMap<string, FileEntry>,
  maxItems: number,
  maxBytes = MAX_TRANSACTION_BYTES,
): FileChange[][] {
  const chunks: FileChange[][] = [];
  let chunk: FileChange[] = [];
  let items = 0;
  let bytes = 0;
  let paths = 0;
  let hashes = 0;
  for (const change of changes) {
    const previous = current.get(change.path);
    const count = transactionItems(change, previous);
    const cost = estimatedWriteBytes(change, previous);
    const full =
      items + count > maxItems ||
      bytes + cost > maxBytes ||
      paths + pathBytes(change) > MAX_TRANSACTION_PATH_BYTES ||
      hashes + hashCount(change) > MAX_TRANSACTION_BLOCK_HASHES;
    if (chunk.length > 0 && full) {
      chunks.push(chunk);
      chunk = [];
      items = 0;
      bytes = 0;
      paths = 0;
      hashes = 0;
    }
    chunk.push(change);
    items += count;
    bytes += cost;
    paths += pathBytes(change);
    hashes += hashCount(change);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * The entries a transaction writes: each file moves from its base version to the next one. The
 * current entries (`current`, the ones planChanges accepted the changes against) are what the
 * writes supersede.
 */
export function buildWrites(
  namespaceId: string,
  changes: readonly FileChange[],
  seq: number,
  committedAtMs: number,
  actor: Actor,
  current: ReadonlyMap<string, FileEntry> = new Map(),
): FileWrite[] {
  const stamp = { namespaceId, committedAtMs, deviceId: actor.deviceId, journalSeq: seq };
  return changes.flatMap((change): FileWrite[] => {
    const write: FileWrite = {
      expectedVersion: change.baseVersion,
      wasLive: current.has(change.path) && !current.get(change.path)!.deleted,
      superseded: current.get(change.path),
      entry: {
        ...stamp,
        path: change.path,
        version: change.baseVersion + 1,
        deleted: change.content === undefined,
        content: change.content,
        modifiedAtMs: change.modifiedAtMs,
        ...(change.moveFrom ? { movedFrom: change.moveFrom.path } : {}),
      },
    };
    if (!change.moveFrom) return [write];
    // The source's tombstone first: a move is the old path's deletion and the new path's creation.
    const { path, baseVersion } = change.moveFrom;
    const source: FileWrite = {
      expectedVersion: baseVersion,
      wasLive: true,
      superseded: current.get(path),
      entry: {
        ...stamp,
        path,
        version: baseVersion + 1,
        deleted: true,
        content: undefined,
        modifiedAtMs: change.modifiedAtMs,
        movedTo: change.path,
      },
    };
    return [source, write];
  });
}

export function buildJournal(
  namespaceId: string,
  seq: number,
  committedAtMs: number,
  actor: Actor,
  writes: readonly FileWrite[],
): JournalRecord {
  return {
    namespaceId,
    seq,
    committedAtMs,
    actor,
    changes: writes.map(({ entry }) => ({
      path: entry.path,
      version: entry.version,
      deleted: entry.deleted,
      size: entry.content?.size ?? 0,
      contentHash: entry.content?.contentHash ?? '',
      modifiedAtMs: entry.modifiedAtMs,
      ...(entry.movedFrom ? { movedFrom: entry.movedFrom } : {}),
      ...(entry.movedTo ? { movedTo: entry.movedTo } : {}),
      ...(entry.content && entry.content.blockHashes.length <= JOURNAL_INLINE_BLOCKS
        ? { blockHashes: [...entry.content.blockHashes] }
        : {}),
    })),
  };
}

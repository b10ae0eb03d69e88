import { pairMoves } from '@filesync/sync-core';

/** What the commit order needs to know of a pending change. */
export interface CommitUnitOf {
  readonly kind: 'upload' | 'delete';
  readonly path: string;
  /** Bytes to upload (0 for a deletion). */
  readonly size: number;
  /** Upload: the new content's hash. Delete: the hash of the synced content it removes ('' if unknown). */
  readonly contentHash: string;
}

/**
 * Splits a pass's changes into CommitFiles batches of at most `maxPerBatch` changes: the units of
 * commitUnits, in order, packed greedily.
 */
export function commitBatches<T>(
  changes: readonly T[],
  describe: (change: T) => CommitUnitOf,
  maxPerBatch: number,
): T[][] {
  if (maxPerBatch < 2) throw new RangeError('a batch must hold a move: at least 2 changes');
  const batches: T[][] = [];
  let current: T[] = [];
  for (const unit of commitUnits(changes, describe)) {
    if (current.length + unit.length > maxPerBatch) {
      batches.push(current);
      current = [];
    }
    current.push(...unit);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * A pass's changes as commit units in commit order: one change, or a move (a deletion and the
 * upload of its content at another path, deletion first) that must go in one CommitFiles call.
 *
 * Smallest first, so the commits of many small files overlap the upload of a large one. A
 * deletion whose synced content is uploaded at another path in the same pass is a move: it goes in
 * the same request as that upload, right before it, because the server's mass-delete rule excuses a
 * deletion only when its move partner is in the same request (a renamed folder is not a wipe).
 * Pairs are found by sync-core's pairMoves, the rule the server applies.
 */
export function commitUnits<T>(changes: readonly T[], describe: (change: T) => CommitUnitOf): T[][] {
  const described = changes.map((change) => ({ change, info: describe(change) }));
  const deletions = described.filter((item) => item.info.kind === 'delete');
  const uploads = described.filter((item) => item.info.kind === 'upload');
  const partners = pairMoves(
    deletions.map((item) => item.info),
    uploads.map((item) => item.info),
  );
  const paired = new Set<T>();
  const units: { size: number; members: T[] }[] = [];
  deletions.forEach((deletion, index) => {
    const partner = partners[index] === undefined ? undefined : uploads[partners[index]]!;
    if (!partner) return;
    paired.add(partner.change);
    paired.add(deletion.change);
    units.push({ size: partner.info.size, members: [deletion.change, partner.change] });
  });
  for (const item of described) {
    if (!paired.has(item.change)) units.push({ size: item.info.size, members: [item.change] });
  }
  // Stable: changes of equal size keep the order they came in.
  units.sort((a, b) => a.size - b.size);
  return units.map((unit) => unit.members);
}

/** One side of a possible local move: a synced file gone here, or a new file. */
export interface MoveSide {
  /** Deletion: the synced content; arrival: the local content ('' never pairs). */
  readonly contentHash: string;
  /** Device and inode (fileIdOf); '' when unknown. */
  readonly fileId: string;
}

/**
 * Which deletions and arrivals of one pass are moves, as a map deletion index -> arrival index:
 * first by identity (the same device and inode and the same content: the file itself, renamed),
 * then by content alone where exactly one deletion and one arrival of the rest hold it (a copy
 * and a delete, as across file systems). Two arrivals of one content with no identity to tell
 * them apart pair with nothing: they are committed as a deletion and uploads, which lose nothing
 * either. A pair always holds the same bytes, so a wrong guess costs a move's meaning, not data.
 */
export function pairLocalMoves(
  deletions: readonly MoveSide[],
  arrivals: readonly MoveSide[],
): Map<number, number> {
  const pairs = new Map<number, number>();
  const taken = new Set<number>();
  const byId = new Map<string, number>();
  deletions.forEach((side, index) => {
    if (side.fileId && side.contentHash) byId.set(side.fileId, index);
  });
  arrivals.forEach((side, index) => {
    const deletion = side.fileId ? byId.get(side.fileId) : undefined;
    if (deletion === undefined || pairs.has(deletion)) return;
    if (deletions[deletion]!.contentHash !== side.contentHash) return;
    pairs.set(deletion, index);
    taken.add(index);
  });
  const byContent = new Map<string, { deletions: number[]; arrivals: number[] }>();
  const group = (hash: string) => {
    let found = byContent.get(hash);
    if (!found) byContent.set(hash, (found = { deletions: [], arrivals: [] }));
    return found;
  };
  deletions.forEach((side, index) => {
    if (side.contentHash && !pairs.has(index)) group(side.contentHash).deletions.push(index);
  });
  arrivals.forEach((side, index) => {
    if (side.contentHash && !taken.has(index)) group(side.contentHash).arrivals.push(index);
  });
  for (const sides of byContent.values()) {
    if (sides.deletions.length === 1 && sides.arrivals.length === 1)
      pairs.set(sides.deletions[0]!, sides.arrivals[0]!);
  }
  return pairs;
}

/**
 * Most changes uploaded and committed together. What tracks an upload (its blocks' waiters, its
 * readiness) exists for one window at a time, so the client's memory for a first sync of
 * 100,000 files stays that of 10,000; a window's uploads still overlap its commits.
 */
export const COMMIT_WINDOW = 10_000;

/** Commit units in order, cut into windows of at most COMMIT_WINDOW changes (a unit is never cut). */
export function commitWindows<T>(
  units: readonly (readonly T[])[],
  size: number = COMMIT_WINDOW,
): (readonly T[])[][] {
  const windows: (readonly T[])[][] = [];
  let window: (readonly T[])[] = [];
  let changes = 0;
  for (const unit of units) {
    if (changes > 0 && changes + unit.length > size) {
      windows.push(window);
      window = [];
      changes = 0;
    }
    window.push(unit);
    changes += unit.length;
  }
  if (window.length > 0) windows.push(window);
  return windows;
}

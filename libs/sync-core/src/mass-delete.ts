/**
 * The mass-delete rule (issue 6, kind 2), one rule for the client's guard and the server's.
 *
 * Deleting every file at once, or most of many, is the signature of an unmounted drive, an emptied
 * folder or a buggy client far more often than of a user's intent: such a deletion needs the
 * user's explicit confirmation (`filesync sync --force`, `confirm_mass_delete` on the wire).
 *
 * A move is not a deletion: renaming or moving files (a folder's most common change) deletes
 * their old paths and creates the same content elsewhere in the same change set, and must never
 * need confirmation. A deletion whose content hash is the content hash of a file the same change
 * set creates or updates at another path is a move and is not counted (see `pairMoves`).
 */
export const MASS_DELETE_RULE = {
  /** Above this many deletions, deleting more than `maxFraction` of the live files is a mass delete. */
  minFiles: 10,
  /** Fraction of the live files (at the window's start) that may go without confirmation. */
  maxFraction: 0.5,
  /** The server counts deletions over this window, so a wipe split into many batches is caught. */
  windowMs: 60 * 60 * 1000,
} as const;

export interface DeletionCount {
  /** Files that would be deleted (on the server: deleted in the window, this request included). */
  readonly deleting: number;
  /** Live files before these deletions (on the server: at the start of the window). */
  readonly live: number;
  /** A user-chosen cap (`--max-delete N`): more deletions than this need confirmation too. */
  readonly maxDelete?: number;
}

/**
 * True when `deleting` files out of `live` needs confirmation: all of them (any number above 0),
 * more than half of them when that is more than 10 files, or more than `maxDelete`.
 */
export function isMassDelete({ deleting, live, maxDelete }: DeletionCount): boolean {
  if (deleting <= 0) return false;
  if (maxDelete !== undefined && deleting > maxDelete) return true;
  if (deleting >= live) return true;
  return deleting > MASS_DELETE_RULE.minFiles && deleting > live * MASS_DELETE_RULE.maxFraction;
}

/** One side of a possible move: a path and the content it loses or receives ('' when unknown). */
export interface MoveSide {
  readonly path: string;
  readonly contentHash: string;
}

/**
 * Pairs each deletion with the arrival that receives its content, if any: the first arrival not
 * yet paired whose content hash is the deleted file's, at another path. Each arrival receives at
 * most one deletion, so copying one file into two places excuses one deletion, not two; an empty
 * hash (content unknown) is never a move. The server pairs a request's deletions with its
 * creations and updates; the client pairs a pass's deletions with its uploads (and the server's
 * deletions with its downloads), and sends each pair in one request.
 *
 * Returns, per deletion, the index in `arrivals` of its partner, or undefined when the deletion
 * is not a move and counts for the mass-delete rule.
 */
export function pairMoves(
  deletions: readonly MoveSide[],
  arrivals: readonly MoveSide[],
): (number | undefined)[] {
  const unpaired = new Map<string, number[]>();
  arrivals.forEach((arrival, index) => {
    if (!arrival.contentHash) return;
    const indexes = unpaired.get(arrival.contentHash);
    if (indexes) indexes.push(index);
    else unpaired.set(arrival.contentHash, [index]);
  });
  return deletions.map((deletion) => {
    const indexes = deletion.contentHash ? unpaired.get(deletion.contentHash) : undefined;
    const at = indexes?.findIndex((index) => arrivals[index]!.path !== deletion.path) ?? -1;
    return at >= 0 ? indexes!.splice(at, 1)[0] : undefined;
  });
}

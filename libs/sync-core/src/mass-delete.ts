/**
 * The mass-delete rule (issue 6, kind 2), one rule for the client's guard and the server's.
 *
 * Deleting every file at once, or most of many, is the signature of an unmounted drive, an emptied
 * folder or a buggy client far more often than of a user's intent: such a deletion needs the
 * user's explicit confirmation (`filesync sync --force`, `confirm_mass_delete` on the wire).
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

import { pairMoves, type MoveSide } from '@filesync/sync-core';

/** A path a pass would delete, with the content it removes ('' when unknown). */
export type Deletion = MoveSide;

/** A path a pass would write, with the content it writes. */
export type Arrival = MoveSide;

/** The deletions of one pass, split by where they started. */
export interface DeletionsByOrigin {
  /** Files this folder lost (deleted or moved out of reach here): the pass would delete them on the server. */
  readonly local: string[];
  /** Files deleted on the server (on another device): the pass would delete them here. */
  readonly remote: string[];
}

/**
 * The deletions the mass-delete rule counts, once moves are set aside. A move shows up as a
 * deletion plus an arrival of the same content at another path: a renamed folder holding every
 * synced file is not a wipe. A deletion sent to the server is a move when its synced content is
 * uploaded at another path in the same pass; a deletion from the server is a move when the local
 * content it removes is downloaded at another path in the same pass (sync-core's pairMoves, the
 * rule the server applies too).
 */
export function deletionsToGuard(pass: {
  readonly sentToServer: readonly Deletion[];
  readonly uploads: readonly Arrival[];
  readonly fromServer: readonly Deletion[];
  readonly downloads: readonly Arrival[];
}): DeletionsByOrigin {
  return {
    local: unmatched(pass.sentToServer, pass.uploads),
    remote: unmatched(pass.fromServer, pass.downloads),
  };
}

function unmatched(deletions: readonly Deletion[], arrivals: readonly Arrival[]): string[] {
  const partners = pairMoves(deletions, arrivals);
  return deletions
    .filter((_, index) => partners[index] === undefined)
    .map((deletion) => deletion.path)
    .sort();
}

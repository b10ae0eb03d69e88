/** A path a pass would delete, with the content it removes ('' when unknown). */
export interface Deletion {
  readonly path: string;
  readonly contentHash: string;
}

/** A path a pass would write, with the content it writes. */
export interface Arrival {
  readonly path: string;
  readonly contentHash: string;
}

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
 * content it removes is downloaded at another path in the same pass. Each arrival excuses one
 * deletion at most, so copying one file twice cannot hide a second deletion, and a deletion whose
 * content is unknown is never excused.
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
  const waiting = new Map<string, string[]>();
  for (const arrival of arrivals) {
    if (arrival.contentHash === '') continue;
    const paths = waiting.get(arrival.contentHash) ?? [];
    paths.push(arrival.path);
    waiting.set(arrival.contentHash, paths);
  }
  const counted: string[] = [];
  for (const deletion of deletions) {
    const paths = deletion.contentHash === '' ? undefined : waiting.get(deletion.contentHash);
    const partner = paths?.findIndex((path) => path !== deletion.path) ?? -1;
    if (partner >= 0) paths!.splice(partner, 1);
    else counted.push(deletion.path);
  }
  return counted.sort();
}

import { LIMITS } from '@filesync/resources';
import { comparePaths, decide, type Decision, type LocalEntry, type ServerState } from '@filesync/sync-core';

/** A server entry the diff can match to a manifest path. */
export interface ServerFile extends ServerState {
  readonly path: string;
  /** A version a move made: the path it came from (see common.FileEntry.moved_from). */
  readonly movedFrom?: string;
  /** A tombstone a move left: the path the file went to (common.FileEntry.moved_to). */
  readonly movedTo?: string;
}

/** One page of the server listing (current entries and tombstones). */
export interface ListingPage<S extends ServerFile> {
  readonly entries: readonly S[];
  /** The namespace cursor the listing was taken at. */
  readonly cursor: number;
}

export type DiffOutput<S extends ServerFile> =
  | { readonly type: 'action'; readonly path: string; readonly decision: Decision<S> }
  | {
      /** A full diff's progress: every path up to `throughPath` is decided and its action yielded. */
      readonly type: 'progress';
      readonly throughPath: string;
      /** The cursor the listing started at (the summary's). */
      readonly cursor: number;
    }
  | {
      readonly type: 'summary';
      readonly cursor: number;
      readonly entriesReceived: number;
      readonly actionsSent: number;
      /** An incremental diff the server did not compute: no action came, the client runs a full diff. */
      readonly fullDiffRequired: boolean;
    };

/** Watches the merge's memory: how many entries it holds after each step (for tests and metrics). */
export type HeldEntriesProbe = (entries: number) => void;

/** The client's manifest, one entry at a time in path order (ManifestReader validates it). */
export interface ManifestSource {
  /** The next entry, or undefined once the client half-closed. */
  next(): Promise<LocalEntry | undefined>;
  /** Entries read so far (the summary's entries_received). */
  readonly received: number;
}

/**
 * Paths merged between two progress reports: about one listing page, so a client that loses the
 * stream loses at most a page of work, and a report costs a small message per page.
 */
export const PROGRESS_EVERY_PATHS = LIMITS.listFilesPageSize;

/**
 * Walks the manifest and the server listing side by side, both sorted by path (comparePaths),
 * and yields one action per path that needs work, in path order, then the summary. At any time
 * the merge holds one manifest entry and one listing page, whatever the size of either side;
 * it pulls the next entry only once the previous action was taken by the caller, so a slow
 * reader holds the whole pipeline back instead of letting it pile up in memory.
 */
export async function* diffManifest<S extends ServerFile>(
  manifest: ManifestSource,
  listing: AsyncIterable<ListingPage<S>>,
  probe: HeldEntriesProbe = () => undefined,
  progressEvery: number = PROGRESS_EVERY_PATHS,
): AsyncGenerator<DiffOutput<S>> {
  const server = new ListingReader(listing);
  let actionsSent = 0;
  let merged = 0;

  let local = await manifest.next();
  let remote = await server.next();
  while (local || remote) {
    probe((local ? 1 : 0) + server.held);
    const order = !remote ? -1 : !local ? 1 : comparePaths(local.path, remote.path);
    const decision = decide(order > 0 ? undefined : local, order < 0 ? undefined : remote);
    const path = order < 0 ? local!.path : remote!.path;
    if (decision) {
      actionsSent += 1;
      yield { type: 'action', path, decision };
    }
    merged += 1;
    // Both sides are sorted: nothing at or before `path` is left to decide.
    if (merged % progressEvery === 0 && server.cursor !== undefined) {
      yield { type: 'progress', throughPath: path, cursor: server.cursor };
    }
    if (order <= 0) local = await manifest.next();
    if (order >= 0) remote = await server.next();
  }
  // The first page carries the cursor of the listing's start: a client that resumes from it
  // may see a change twice, never miss one.
  yield {
    type: 'summary',
    cursor: server.cursor ?? 0,
    entriesReceived: manifest.received,
    actionsSent,
    fullDiffRequired: false,
  };
}

/** The server listing one entry at a time, checked to be in the path order the merge relies on. */
class ListingReader<S extends ServerFile> {
  private readonly pages: AsyncIterator<ListingPage<S>>;
  private page: readonly S[] = [];
  private index = 0;
  private previous: string | undefined;
  cursor: number | undefined;

  constructor(listing: AsyncIterable<ListingPage<S>>) {
    this.pages = listing[Symbol.asyncIterator]();
  }

  /** Entries of the current page not yet merged. */
  get held(): number {
    return this.page.length - this.index;
  }

  async next(): Promise<S | undefined> {
    while (this.index >= this.page.length) {
      const next = await this.pages.next();
      if (next.done) {
        this.page = [];
        this.index = 0;
        return undefined;
      }
      this.cursor ??= next.value.cursor;
      this.page = next.value.entries;
      this.index = 0;
    }
    const entry = this.page[this.index]!;
    this.index += 1;
    if (this.previous !== undefined && comparePaths(this.previous, entry.path) >= 0) {
      // Merging out-of-order input would pair paths wrongly and advise wrong actions: stop.
      throw new Error(
        `the metadata listing is not in path order: ${JSON.stringify(entry.path)} after ${JSON.stringify(this.previous)}`,
      );
    }
    this.previous = entry.path;
    return entry;
  }
}

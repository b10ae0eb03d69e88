import { decide, type Decision, type ServerState } from './decide';
import type { Manifest } from './manifest';

/** A server entry the diff can match to a manifest path. */
export interface ServerFile extends ServerState {
  readonly path: string;
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
      readonly type: 'summary';
      readonly cursor: number;
      readonly entriesReceived: number;
      readonly actionsSent: number;
    };

/**
 * Walks the server listing page by page against the manifest and yields one action per path
 * that needs work, then the summary. Paths known only locally come last. The manifest is
 * consumed: entries are removed as they are matched.
 */
export async function* diffManifest<S extends ServerFile>(
  manifest: Manifest,
  listing: AsyncIterable<ListingPage<S>>,
): AsyncGenerator<DiffOutput<S>> {
  const entriesReceived = manifest.size;
  let cursor: number | undefined;
  let actionsSent = 0;

  for await (const page of listing) {
    // The first page carries the cursor of the listing's start: a client that resumes from it
    // may see a change twice, never miss one.
    cursor ??= page.cursor;
    for (const server of page.entries) {
      const decision = decide(manifest.take(server.path), server);
      if (decision) {
        actionsSent += 1;
        yield { type: 'action', path: server.path, decision };
      }
    }
  }

  for (const local of manifest.remaining()) {
    const decision = decide<S>(local, undefined);
    if (decision) {
      actionsSent += 1;
      yield { type: 'action', path: local.path, decision };
    }
  }

  yield { type: 'summary', cursor: cursor ?? 0, entriesReceived, actionsSent };
}

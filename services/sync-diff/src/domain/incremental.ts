import { LIMITS } from '@filesync/resources';
import { invalidArgument } from '@filesync/server-kit';
import { comparePaths, decide, type Decision, type LocalEntry } from '@filesync/sync-core';
import type { DiffOutput, ServerFile } from './diff';
import type { ManifestReader } from './manifest';
import type { CallBudget, JournalRecord, ServerFiles } from './ports';
import { isBelowRoot } from './remote-root';

/** Journal records asked per page: the most ListChanges answers at once. */
export const JOURNAL_PAGE_LIMIT = 1000;

/** What an incremental diff is asked for. */
export interface SinceCursor {
  readonly namespaceId: string;
  /** The journal cursor the client has applied; greater than 0. */
  readonly sinceCursor: number;
  /** Every metadata call of the diff runs within it. */
  readonly budget: CallBudget;
  /** The folder's remote root ('' = namespace root): journal paths outside it are left out. */
  readonly remoteRoot?: string;
}

/**
 * The incremental diff: the manifest names only the paths the client changed since its cursor
 * (sorted and validated by the reader, at most LIMITS.maxIncrementalPaths of them); the journal
 * after the cursor tells what changed on the server. Yields, in path order (comparePaths), one
 * action per path that needs work, then the summary:
 * - a manifest path is decided against its current server entry (the journal's latest version of
 *   it, else metadata's current entry, else none), exactly as the full diff decides it;
 * - a journal path the manifest does not name is a DOWNLOAD (live) or DELETE_LOCAL (tombstone) of
 *   its latest entry: the client decides it again against its own synced base, which the server
 *   does not know and which may hold that version already. A DOWNLOAD is a MOVE_LOCAL when a move
 *   made that entry and its source's latest entry is still the move's tombstone, unnamed too: the
 *   client may rename its file at the source instead of downloading.
 * The summary's cursor is the last journal record read (the cursor itself when none followed).
 * With a remote root, journal paths outside it are read past and left out: they neither make
 * actions nor count toward LIMITS.maxIncrementalPaths, and the cursor moves past them all the same.
 *
 * Costs one journal page per 1,000 records after the cursor and one current-entries call per
 * LIMITS.maxPathsPerGetFiles manifest paths the journal does not name (all of them, read beside
 * the journal, when they fit one call); it never lists the namespace. When the journal after the cursor touches more than LIMITS.maxIncrementalPaths
 * paths, or the cursor is not a record of the journal (ahead of its head), it stops and yields only
 * a summary with `fullDiffRequired`, cursor 0 and no action.
 *
 * Errors: INVALID_ARGUMENT (a DomainError) for a manifest entry the reader refuses or for more than
 * LIMITS.maxIncrementalPaths entries; a metadata answer that breaks its contract (records out of
 * order, a page that does not advance, an entry not asked for) is a plain Error (INTERNAL);
 * errors of the port's calls pass through.
 */
export async function* diffSinceCursor<S extends ServerFile>(
  manifest: ManifestReader,
  files: ServerFiles<S>,
  { namespaceId, sinceCursor, budget, remoteRoot = '' }: SinceCursor,
): AsyncGenerator<DiffOutput<S>> {
  const local = await readManifest(manifest);
  // A manifest that fits one current-entries call (a pass of a few edits, the common case) is
  // read beside the journal, not after it: the diff then waits one metadata round trip, not two.
  // Paths the journal names were read for nothing (their latest journal entry decides them), and
  // so was everything when the journal asks for a full diff: one call at most. A larger manifest
  // is read after the journal, only for the paths it does not name.
  const early =
    local.length > 0 && local.length <= LIMITS.maxPathsPerGetFiles
      ? currentEntries(
          files,
          namespaceId,
          local.map(({ path }) => path),
          budget,
        )
      : undefined;
  // Awaited below unless the journal ends the diff first; its failure is then nobody's to report.
  early?.catch(() => undefined);
  const journal = await readJournal(files, namespaceId, sinceCursor, budget, remoteRoot);
  if (journal === 'full-diff-required') {
    yield {
      type: 'summary',
      cursor: 0,
      entriesReceived: manifest.received,
      actionsSent: 0,
      fullDiffRequired: true,
    };
    return;
  }
  const { latest, cursor } = journal;
  const current =
    (await early) ??
    (await currentEntries(
      files,
      namespaceId,
      local.flatMap(({ path }) => (latest.has(path) ? [] : [path])),
      budget,
    ));
  const named = new Set(local.map(({ path }) => path));
  const journalOnly = [...latest.keys()].filter((path) => !named.has(path)).sort(comparePaths);

  let actionsSent = 0;
  let nextLocal = 0;
  let nextJournal = 0;
  while (nextLocal < local.length || nextJournal < journalOnly.length) {
    // The two lists share no path: journalOnly leaves out every path the manifest names.
    const takeLocal =
      nextJournal >= journalOnly.length ||
      (nextLocal < local.length && comparePaths(local[nextLocal]!.path, journalOnly[nextJournal]!) < 0);
    let path: string;
    let decision: Decision<S> | undefined;
    if (takeLocal) {
      const entry = local[nextLocal++]!;
      path = entry.path;
      decision = decide(entry, latest.get(path) ?? current.get(path));
    } else {
      path = journalOnly[nextJournal++]!;
      const server = latest.get(path)!;
      decision = {
        kind: server.deleted ? 'delete-local' : movedHere(server, latest, named) ? 'move-local' : 'download',
        baseVersion: 0,
        server,
      };
    }
    if (decision) {
      actionsSent += 1;
      yield { type: 'action', path, decision };
    }
  }
  yield { type: 'summary', cursor, entriesReceived: manifest.received, actionsSent, fullDiffRequired: false };
}

/**
 * True when `server` is a move's arrival whose source the journal last saw leave by that move and
 * the manifest does not name (the client reports it unchanged): a rename can stand for the download.
 */
function movedHere<S extends ServerFile>(
  server: S,
  latest: ReadonlyMap<string, S>,
  named: ReadonlySet<string>,
): boolean {
  if (server.movedFrom === undefined || named.has(server.movedFrom)) return false;
  const source = latest.get(server.movedFrom);
  return source !== undefined && source.deleted && source.movedTo === server.path;
}

/** The whole manifest, in path order; INVALID_ARGUMENT past LIMITS.maxIncrementalPaths entries. */
async function readManifest(manifest: ManifestReader): Promise<LocalEntry[]> {
  const entries: LocalEntry[] = [];
  for (let entry = await manifest.next(); entry; entry = await manifest.next()) {
    if (entries.length >= LIMITS.maxIncrementalPaths) {
      throw invalidArgument(
        `an incremental diff (since_cursor > 0) takes at most ${LIMITS.maxIncrementalPaths} manifest ` +
          'entries: send a full diff (since_cursor 0) with the whole folder instead',
      );
    }
    entries.push(entry);
  }
  return entries;
}

/**
 * The latest entry of each path the journal changed after `sinceCursor`, and the seq of the last
 * record read; 'full-diff-required' when the cursor is not a record of the journal or the journal
 * touches too many paths for an incremental diff to be worth it.
 */
async function readJournal<S extends ServerFile>(
  files: ServerFiles<S>,
  namespaceId: string,
  sinceCursor: number,
  budget: CallBudget,
  remoteRoot: string,
): Promise<{ latest: Map<string, S>; cursor: number } | 'full-diff-required'> {
  // The first page starts one record early: the record at the cursor shows, in the same call, that
  // the journal reached the cursor. A client whose cursor is ahead (its namespace was recreated,
  // or it holds a cursor of another deployment) would otherwise hear "nothing changed" forever.
  let page = await files.changes(namespaceId, sinceCursor - 1, JOURNAL_PAGE_LIMIT, budget);
  if (page.records[0]?.seq !== sinceCursor) return 'full-diff-required';
  const latest = new Map<string, S>();
  let previous = sinceCursor;
  let records: readonly JournalRecord<S>[] = page.records.slice(1);
  for (;;) {
    for (const record of records) {
      // "Latest wins" holds only if records come oldest first.
      if (record.seq <= previous) {
        throw new Error(`the metadata journal is not in seq order: ${record.seq} after ${previous}`);
      }
      previous = record.seq;
      for (const change of record.changes) {
        if (!isBelowRoot(change.path, remoteRoot)) continue;
        latest.set(change.path, change);
        if (latest.size > LIMITS.maxIncrementalPaths) return 'full-diff-required';
      }
    }
    if (!page.hasMore) return { latest, cursor: page.cursor };
    if (page.records.length === 0) {
      throw new Error('the metadata journal answered a page with no record and more to come');
    }
    page = await files.changes(namespaceId, page.cursor, JOURNAL_PAGE_LIMIT, budget);
    records = page.records;
  }
}

/** The current entry of each of `paths` that has one, read LIMITS.maxPathsPerGetFiles at a time. */
export async function currentEntries<S extends ServerFile>(
  files: ServerFiles<S>,
  namespaceId: string,
  paths: readonly string[],
  budget: CallBudget,
): Promise<Map<string, S>> {
  const found = new Map<string, S>();
  for (let next = 0; next < paths.length;) {
    const asked = paths.slice(next, next + LIMITS.maxPathsPerGetFiles);
    const answer = await files.currentEntries(namespaceId, asked, budget);
    // A prefix of none would ask the same again forever.
    if (answer.pathsAnswered < 1 || answer.pathsAnswered > asked.length) {
      throw new Error(`metadata answered ${answer.pathsAnswered} of ${asked.length} paths asked`);
    }
    const answered = new Set(asked.slice(0, answer.pathsAnswered));
    for (const entry of answer.entries) {
      if (!answered.has(entry.path)) {
        throw new Error(`metadata answered ${JSON.stringify(entry.path)}, a path it was not asked for`);
      }
      found.set(entry.path, entry);
    }
    next += answer.pathsAnswered;
  }
  return found;
}

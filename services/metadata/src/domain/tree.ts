import type { FileChange, PathRejection } from './model';
import type { MetadataStore } from './ports';

/** The folders above a path, outermost first: "a/b/c" → ["a", "a/b"]. */
export function ancestorsOf(path: string): string[] {
  const folders: string[] = [];
  for (let index = path.indexOf('/'); index >= 0; index = path.indexOf('/', index + 1)) {
    folders.push(path.slice(0, index));
  }
  return folders;
}

const isBelow = (path: string, folder: string) => path.startsWith(`${folder}/`);

/**
 * Issue 6, kind 4: a namespace is a tree, so no live file may sit at a folder of another live
 * file. Checks the changes of one transaction against the store and against each other:
 * deletions apply first (deleting file `notes` and creating `notes/part1.txt` in one request is
 * the replace-a-file-by-a-folder case), then the changes that make a path live, in request order
 * (of two new clashing paths the first wins).
 *
 * Only transitions to live are checked (a create, or new content over a tombstone): a file that is
 * already live satisfied the rule when it became live, so editing it costs nothing. The cost per
 * checked change is one read of its ancestors' live-index items (bounded by depth) and one
 * bounded index query for a live file below it, never a listing.
 *
 * Race-free without extra conditions: the caller reads the head before calling this, and the
 * transaction is conditioned on the head still being at that sequence. Every commit moves the
 * head, so a commit that changed any file after the head was read cancels this transaction, which
 * then checks again.
 */
export async function findClashes(
  store: MetadataStore,
  namespaceId: string,
  changes: readonly FileChange[],
  wasLive: ReadonlyMap<string, boolean>,
  known?: { readonly folders: EmptyFolders; readonly seq: number },
): Promise<PathRejection[]> {
  const deleting = new Set(changes.filter((change) => !change.content).map((change) => change.path));
  const becomingLive = changes.filter((change) => change.content && !wasLive.get(change.path));
  if (becomingLive.length === 0) return [];

  const ancestors = [...new Set(becomingLive.flatMap((change) => ancestorsOf(change.path)))];
  const liveAncestors = await store.liveAmong(namespaceId, ancestors);
  const liveBelow = await (known
    ? firstLiveBelowEach(store, namespaceId, becomingLive, deleting, known.folders.at(known.seq))
    : Promise.all(becomingLive.map((change) => store.firstLiveBelow(namespaceId, change.path, deleting))));

  const rejections: PathRejection[] = [];
  const madeLive: string[] = [];
  becomingLive.forEach((change, index) => {
    const path = change.path;
    const clashing =
      ancestorsOf(path).find(
        (folder) => (liveAncestors.has(folder) && !deleting.has(folder)) || madeLive.includes(folder),
      ) ??
      liveBelow[index] ??
      madeLive.find((other) => isBelow(other, path));
    if (clashing === undefined) {
      madeLive.push(path);
      return;
    }
    const fileAbove = isBelow(path, clashing);
    rejections.push({
      kind: 'rejected',
      path,
      reason: 'path-clash',
      clashingPath: clashing,
      message: fileAbove
        ? `${path} cannot be created: ${clashing} is a file, not a folder (a namespace is a tree)`
        : `${path} cannot be created as a file: ${clashing} lies below it, so it is a folder (a namespace is a tree)`,
    });
  });
  return rejections;
}

const parentOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));

/**
 * What one commit call learned about the tree while its own transactions were the only ones
 * moving the namespace head: folders that held no live file at all at sequence `seq` minus the
 * call's own transactions, and the paths those transactions made live since. A new file in such
 * a folder can only have a live file below it among those paths, so it needs no index query.
 * A first sync of a folder of 100 files, committed in transactions of 48, asks the store once
 * for the folder instead of once per file.
 *
 * Valid only at the head it was learned at: `at(seq)` forgets everything when any other commit
 * moved the head in between (every commit moves it, and the transaction the caller then writes
 * is conditioned on `seq`, so a commit after the check cancels it and the check runs again).
 */
export class EmptyFolders {
  private seq = -1;
  private readonly folders = new Set<string>();
  private readonly ownLive: string[] = [];

  /** The knowledge valid at head `seq` (none when another commit moved the head). */
  at(seq: number): EmptyFolders {
    if (seq !== this.seq) {
      this.seq = seq;
      this.folders.clear();
      this.ownLive.length = 0;
    }
    return this;
  }

  /** A transaction of this call committed at `seq`, making `paths` live. */
  committed(seq: number, paths: readonly string[]): void {
    if (seq !== this.seq + 1) {
      this.at(seq);
      return;
    }
    this.seq = seq;
    this.ownLive.push(...paths);
  }

  /** The store had no live file below `folder` at the current head (counting every file). */
  learnedEmpty(folder: string): void {
    this.folders.add(folder);
  }

  /**
   * For a path whose folder or one of its ancestors is known empty: a live file below the path
   * (one the call made live itself), or null when there is none; undefined when nothing is known.
   */
  liveBelow(path: string): string | null | undefined {
    if (!ancestorsOf(path).some((folder) => this.folders.has(folder))) return undefined;
    return this.ownLive.find((other) => isBelow(other, path)) ?? null;
  }
}

/**
 * firstLiveBelow for each change, asking once per folder first: a folder holding several of the
 * changes is queried (all of its files counted, so a deletion that might still fail cannot make
 * it look empty); an empty one answers for all of them, otherwise each is queried as before.
 */
async function firstLiveBelowEach(
  store: MetadataStore,
  namespaceId: string,
  becomingLive: readonly FileChange[],
  deleting: ReadonlySet<string>,
  known: EmptyFolders,
): Promise<(string | undefined)[]> {
  const perFolder = new Map<string, number>();
  for (const change of becomingLive) {
    if (known.liveBelow(change.path) !== undefined) continue;
    const folder = parentOf(change.path);
    if (folder !== '') perFolder.set(folder, (perFolder.get(folder) ?? 0) + 1);
  }
  const asked = [...perFolder].filter(([, count]) => count > 1).map(([folder]) => folder);
  const empty = await Promise.all(
    asked.map(async (folder) => (await store.firstLiveBelow(namespaceId, folder, new Set())) === undefined),
  );
  asked.forEach((folder, index) => {
    if (empty[index]) known.learnedEmpty(folder);
  });
  return Promise.all(
    becomingLive.map((change) => {
      const mine = known.liveBelow(change.path);
      if (mine !== undefined) return mine ?? undefined;
      return store.firstLiveBelow(namespaceId, change.path, deleting);
    }),
  );
}

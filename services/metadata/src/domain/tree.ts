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
 * already live satisfied the rule when it became live, so editing it costs nothing. The cost of a
 * transaction's check is two batched reads, whatever the namespace holds: the current entries
 * of the new paths' folders (store.liveAmong: a live file at a folder) and the folder markers of
 * the new paths and their folders (store.foldersAmong). Only a new path that is a marked folder,
 * which is rare (a file made where a folder was), costs a query for a live file below it.
 *
 * Race-free without extra conditions: the caller reads the head before calling this, and the
 * transaction is conditioned on the head still being at that sequence. Every commit moves the
 * head, so a commit that changed any file after the head was read cancels this transaction, which
 * then checks again. The folders of the files this transaction makes live are marked before it
 * is written, so a commit that reads a head including this one sees the markers too.
 */
export async function findClashes(
  store: MetadataStore,
  namespaceId: string,
  changes: readonly FileChange[],
  wasLive: ReadonlyMap<string, boolean>,
): Promise<PathRejection[]> {
  const deleting = new Set(changes.filter((change) => !change.content).map((change) => change.path));
  const becomingLive = changes.filter((change) => change.content && !wasLive.get(change.path));
  if (becomingLive.length === 0) return [];

  const ancestors = [...new Set(becomingLive.flatMap((change) => ancestorsOf(change.path)))];
  const [liveAncestors, folders] = await Promise.all([
    store.liveAmong(namespaceId, ancestors),
    store.foldersAmong(namespaceId, [
      ...new Set([...ancestors, ...becomingLive.map((change) => change.path)]),
    ]),
  ]);
  const liveBelow = await Promise.all(
    becomingLive.map((change) =>
      folders.has(change.path) ? store.firstLiveBelow(namespaceId, change.path, deleting) : undefined,
    ),
  );

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
  const unmarked = [...new Set(madeLive.flatMap(ancestorsOf))].filter((folder) => !folders.has(folder));
  if (unmarked.length > 0) await store.markFolders(namespaceId, unmarked);
  return rejections;
}

import { stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { IGNORE_FILE, loadIgnoreRules, type IgnoreRules } from '../scan/ignore-rules';

/** What file-system events tell the watch loop. */
export interface LocalEvents {
  /** Something changed at `path` (folder-relative, '/'-separated). */
  changed(path: string): void;
  /** Events may have been lost (a watcher error, an overflow): the folder must be scanned. */
  lost(reason: string): void;
  /** The watched folder itself is gone (moved, deleted, unmounted): never a deletion. */
  folderGone(): void;
}

export interface LocalWatcher {
  close(): Promise<void>;
}

/**
 * Watches a synced folder with chokidar (inotify on Linux, through fs.watch). Paths the ignore
 * rules hide, the client's own temp files and private folders (the filesync home) raise no event;
 * symlinks are not followed. Editors that write a temp file and rename it over the original raise
 * events for both names: the debounced pass that follows sees the final file. Resolves once the
 * watcher is ready, so that every later change raises an event.
 */
export async function watchLocalFolder(
  root: string,
  events: LocalEvents,
  options: { privateFolders?: readonly string[] } = {},
): Promise<LocalWatcher> {
  let rules: IgnoreRules = await loadIgnoreRules(root);
  const privateFolders = options.privateFolders ?? [];
  const relativePath = (absolute: string) => relative(root, absolute).split(sep).join('/');
  const ignored = (absolute: string, stats?: { isDirectory(): boolean }): boolean => {
    if (privateFolders.some((folder) => absolute === folder || absolute.startsWith(folder + sep)))
      return true;
    const path = relativePath(absolute);
    if (path === '' || path.startsWith('..')) return false;
    return rules.ignores(path, stats?.isDirectory() ?? false);
  };
  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    followSymlinks: false,
    ignored,
  });
  const onPath = (absolute: string) => {
    const path = relativePath(absolute);
    if (path === '') return;
    if (path === IGNORE_FILE) {
      // New rules change what is synced: reloaded for the events, and the pass compares everything.
      void loadIgnoreRules(root).then(
        (loaded) => {
          rules = loaded;
          events.lost('the ignore rules changed');
        },
        (error: unknown) => events.lost(`cannot read ${IGNORE_FILE}: ${String(error)}`),
      );
      return;
    }
    events.changed(path);
  };
  const checkRoot = async () => {
    const stats = await stat(root).catch(() => undefined);
    if (!stats?.isDirectory()) events.folderGone();
  };
  watcher.on('add', onPath).on('change', onPath).on('unlink', onPath).on('addDir', onPath);
  watcher.on('unlinkDir', (absolute: string) => {
    if (relativePath(absolute) === '') void checkRoot();
    else onPath(absolute);
  });
  watcher.on('error', (error: unknown) => {
    events.lost(`file-system watcher: ${error instanceof Error ? error.message : String(error)}`);
    void checkRoot();
  });
  await new Promise<void>((resolve) => watcher.once('ready', resolve));
  return { close: () => watcher.close() };
}

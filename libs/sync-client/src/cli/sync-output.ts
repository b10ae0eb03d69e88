import type { FolderState } from '../state/state-db';
import type { SyncPlan, SyncSummary } from '../sync/summary';
import { formatBytes } from './progress-display';
import { plural } from '../plural';

/** The lines `filesync sync` prints for a finished pass (`--json` prints the summary itself). */
export function summaryLines(summary: SyncSummary): string[] {
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  const lines = [
    `Uploaded ${plural(summary.filesUploaded, 'file')} (${plural(summary.uploadedBlocks, 'block')}, ${mib(summary.uploadedBytes)}), ` +
      `downloaded ${plural(summary.filesDownloaded, 'file')} (${plural(summary.downloadedBlocks, 'block')}, ${mib(summary.downloadedBytes)}` +
      (summary.reusedBlocks > 0 ? `; ${mib(summary.reusedBytes)} more copied from files already here` : '') +
      '), ' +
      `${summary.deleted} deleted, ${plural(summary.conflicts, 'conflict')}.`,
  ];
  if (summary.conflicted.length > 0) {
    lines.push(
      'Conflicts (the server’s version is at the path; yours is kept as the copy):',
      ...listed(
        summary.conflicted.map((conflict) =>
          conflict.copy === undefined
            ? `  ${JSON.stringify(conflict.path)}: deleted here, changed on the server (kept the server’s)`
            : `  ${JSON.stringify(conflict.path)} -> ${JSON.stringify(conflict.copy)}`,
        ),
      ),
    );
  }
  if (summary.skipped.length > 0 || summary.failed.length > 0) {
    lines.push(
      `Not synced: ${summary.skipped.length} skipped, ${summary.failed.length} failed (the rest is in sync):`,
      ...listed(summary.skipped.map((skip) => `  skipped ${JSON.stringify(skip.path)}: ${skip.reason}`)),
      ...listed(
        summary.failed.map((failure) => `  failed ${JSON.stringify(failure.path)}: ${failure.reason}`),
      ),
    );
  }
  return lines;
}

/** The lines of `filesync sync --dry-run`: what the pass would do, path by path. */
export function planLines(plan: SyncPlan, summary: SyncSummary): string[] {
  const section = (title: string, paths: readonly string[]) =>
    paths.length === 0 ? [] : [`${title} (${paths.length}):`, ...listed(paths.map((path) => `  ${path}`))];
  const lines = [
    'Dry run: nothing was changed. A pass now would:',
    ...section(`upload (${formatBytes(plan.uploadBytes)})`, plan.upload),
    ...section(`download (${formatBytes(plan.downloadBytes)})`, plan.download),
    ...section('delete here (deleted on the server)', plan.deleteLocal),
    ...section('delete on the server (deleted here)', plan.deleteRemote),
    ...section('keep as conflicted copies (changed on both sides)', plan.conflicts),
  ];
  const actions = [plan.upload, plan.download, plan.deleteLocal, plan.deleteRemote, plan.conflicts];
  if (actions.every((paths) => paths.length === 0)) lines.push('  nothing: the folder is in sync.');
  if (summary.skipped.length > 0) {
    lines.push(
      `Would skip (${summary.skipped.length}):`,
      ...listed(summary.skipped.map((skip) => `  ${JSON.stringify(skip.path)}: ${skip.reason}`)),
    );
  }
  return lines;
}

/** The first lines of a long list, and how many more there are (--json lists them all). */
export function listed(lines: readonly string[], shown = 20): string[] {
  return lines.length <= shown
    ? [...lines]
    : [...lines.slice(0, shown), `  ... and ${lines.length - shown} more (--json lists them all)`];
}

/** What `filesync unlink` prints for the folder it unlinked. */
export function unlinkedLine(folder: FolderState): string {
  return (
    `Unlinked ${folder.root} from /${folder.remotePath} (${plural(folder.files, 'file was', 'files were')} ` +
    'synced); no file was changed.'
  );
}

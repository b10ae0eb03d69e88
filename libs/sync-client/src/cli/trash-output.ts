import type { RestoreReport, TrashItem, VersionInfo } from '../trash/trash-client';
import { plural } from '../plural';

/** What `filesync trash`, `restore` and `versions` print for people (issue 8); `--json` prints the data. */

/** A time as ISO 8601 UTC to the second. */
export const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const bytes = (size: number) => plural(size, 'byte');

/** The first lines of a long list, and how many more there are (--json lists them all). */
function listed(lines: readonly string[], shown = 20): string[] {
  return lines.length <= shown
    ? [...lines]
    : [...lines.slice(0, shown), `  ... and ${lines.length - shown} more (--json lists them all)`];
}

export function trashLines(items: readonly TrashItem[], path: string): string[] {
  if (items.length === 0) {
    return [path === '' ? 'The trash is empty.' : `Nothing deleted at or below ${path} can be restored.`];
  }
  return [
    ...items.map(
      (item) =>
        `${item.path}  ${bytes(item.size)}  deleted ${when(item.deletedAtMs)} by ${item.deviceName}  ` +
        `restorable until ${when(item.expiresAtMs)}`,
    ),
    `${plural(items.length, 'deleted file')}: \`filesync restore PATH\` brings a file ` +
      'back, or every deleted file below a folder.',
  ];
}

export function restoreLines(report: RestoreReport): string[] {
  const lines: string[] = [];
  const count = report.restored.length;
  if (count > 0) {
    lines.push(
      `Restored ${plural(count, 'file')} (each a new version; other devices get ${count === 1 ? 'it' : 'them'} on their next sync):`,
      ...listed(
        report.restored.map(
          (file) => `  ${file.path}: version ${file.fromVersion} as version ${file.version}`,
        ),
      ),
    );
  }
  if (report.refused.length > 0) {
    lines.push(
      `Not restored: ${report.refused.length} (left as they are):`,
      ...listed(report.refused.map((file) => `  ${file.path}: ${file.message}`)),
    );
  }
  if (lines.length === 0) lines.push('Nothing to restore.');
  return lines;
}

export function versionLines(versions: readonly VersionInfo[]): string[] {
  return versions.map((version, index) => {
    const what = version.deleted ? 'deleted' : bytes(version.content?.size ?? 0);
    const kept =
      index === 0 ? 'current' : version.expiresAtMs > 0 ? `kept until ${when(version.expiresAtMs)}` : 'kept';
    return `v${version.version}  ${when(version.committedAtMs)}  ${what}  by ${version.deviceName}  ${kept}`;
  });
}

import type { ClientStatus, FolderStatus } from '../client';
import { plural } from '../plural';

const when = (ms: number) => (ms ? new Date(ms).toISOString() : 'never');

/** `filesync status` for a person. */
export function statusLines(status: ClientStatus): string[] {
  const check = status.serverCheck;
  return [
    `Signed in as ${status.email} (user ${status.userId})`,
    `Device ${status.deviceName} (${status.deviceId})`,
    `Server ${status.server}, namespace ${status.namespaceId}: ` +
      (check === undefined
        ? 'not checked'
        : check.tlsFailure
          ? `cannot connect: ${check.error}`
          : !check.reachable
            ? (check.error ?? `cannot reach the filesync server at ${status.server}`)
            : !check.sessionValid
              ? `reachable, but the session was refused: ${check.error ?? 'run `filesync login`'}`
              : `reachable, session valid (${check.ms} ms)`),
    `Home ${status.home}`,
    ...(status.syncedFolders.length === 0 ? ['No folder synced yet.'] : ['Synced folders:']),
    ...status.syncedFolders.flatMap(folderLines),
  ];
}

function folderLines(folder: FolderStatus): string[] {
  const pending = folder.missing
    ? 'MISSING (moved, deleted or not mounted: nothing is deleted; see `filesync sync --help`)'
    : folder.pendingLocalChanges === undefined
      ? 'local changes unknown (cannot read the folder)'
      : `${plural(folder.pendingLocalChanges, 'local change')} not synced yet`;
  const lines = [
    `  ${folder.root} <-> /${folder.remotePath}`,
    `    ${folder.watching ? `watching (pid ${folder.watcherPid})` : 'not watching'}, ${plural(folder.files, 'file')} synced, ${pending}`,
    `    last pass ${when(folder.lastPassAtMs || folder.lastSyncAtMs)}` +
      (folder.lastPassOutcome ? `: ${folder.lastPassOutcome}` : ''),
  ];
  if (folder.lastError) lines.push(`    last error: ${folder.lastError}`);
  return lines;
}

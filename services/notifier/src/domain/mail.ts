import type { ChangeEvent, Recipient } from './change-event';

export interface MailContent {
  readonly subject: string;
  readonly text: string;
}

/** The notification one follower gets for one event: the paths they follow that changed, and by whom. */
export function composeMail(event: ChangeEvent, recipient: Recipient): MailContent {
  const changeByPath = new Map(event.changes.map((change) => [change.path, change]));
  // A move is told once, as "old -> new", to a follower of either path or of both.
  const moves = new Set<string>();
  const lines = recipient.paths.flatMap((path) => {
    const change = changeByPath.get(path);
    if (!change) return [`  changed  ${path}`];
    const move = change.movedTo
      ? [path, change.movedTo]
      : change.movedFrom
        ? [change.movedFrom, path]
        : undefined;
    if (move) {
      const line = `  moved    ${move[0]} -> ${move[1]}`;
      if (moves.has(line)) return [];
      moves.add(line);
      return [line];
    }
    if (change.deleted) return [`  deleted  ${path}`];
    const verb = change.version === 1 ? 'added  ' : 'updated';
    return [`  ${verb}  ${path} (version ${change.version}, ${formatBytes(change.size)})`];
  });
  const count = lines.length;
  const subject = `filesync: ${count} ${count === 1 ? 'change' : 'changes'} in your followed folders`;
  const who = event.actor.email || 'someone';
  const text = [
    'Hello,',
    '',
    `${who} changed ${count === 1 ? 'a file' : `${count} files`} you follow:`,
    '',
    ...lines,
    '',
    `Committed at ${new Date(event.committedAtMs).toISOString()} (change ${event.eventId}).`,
    '',
    'You receive this mail because you follow these files, or a folder above them, in filesync.',
    '',
  ].join('\n');
  return { subject, text };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

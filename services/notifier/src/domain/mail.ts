import type { ChangeEvent, Recipient } from './change-event';

export interface MailContent {
  readonly subject: string;
  readonly text: string;
}

/** The notification one follower gets for one event: the paths they follow that changed, and by whom. */
export function composeMail(event: ChangeEvent, recipient: Recipient): MailContent {
  const count = recipient.paths.length;
  const subject = `filesync: ${count} ${count === 1 ? 'change' : 'changes'} in your followed folders`;
  const changeByPath = new Map(event.changes.map((change) => [change.path, change]));
  const lines = recipient.paths.map((path) => {
    const change = changeByPath.get(path);
    if (!change) return `  changed  ${path}`;
    if (change.deleted) return `  deleted  ${path}`;
    const verb = change.version === 1 ? 'added  ' : 'updated';
    return `  ${verb}  ${path} (version ${change.version}, ${formatBytes(change.size)})`;
  });
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

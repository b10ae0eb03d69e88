import { resolveRecipients } from './followers';
import type { ChangeEvent, Follow, JournalRecord } from './model';

/** The event id is the journal position, so a resent event is recognisable as the same one. */
export const eventIdOf = (namespaceId: string, seq: number) => `${namespaceId}:${seq}`;

/** The event announcing one committed transaction, with its recipients resolved. */
export function buildChangeEvent(journal: JournalRecord, follows: readonly Follow[]): ChangeEvent {
  // A move is its two halves, each saying where the file went or came from: followers of the
  // old path and of the new one are both told it moved.
  const changes = journal.changes.map(({ path, version, deleted, size, movedFrom, movedTo }) => ({
    path,
    version,
    deleted,
    size,
    ...(movedFrom ? { movedFrom } : {}),
    ...(movedTo ? { movedTo } : {}),
  }));
  return {
    eventId: eventIdOf(journal.namespaceId, journal.seq),
    namespaceId: journal.namespaceId,
    seq: journal.seq,
    committedAtMs: journal.committedAtMs,
    actor: { ...journal.actor },
    changes,
    recipients: resolveRecipients(
      follows,
      changes.map((change) => change.path),
    ),
  };
}

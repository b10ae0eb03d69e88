import { MASS_DELETE_RULE, isMassDelete } from '@filesync/sync-core';
import type { DeletionWindow, HeadState } from './ports';

/**
 * Issue 6, kind 2, on the server: deletions are counted over a window of
 * MASS_DELETE_RULE.windowMs against the live files at the window's start, so a wipe split into
 * many small batches (or many calls) is caught like one big one. Files created by earlier
 * commits of the window count as live too: deleting 1 of 31 files is no mass deletion because 28
 * of them were added after the window opened. A request's own creations do not count, so
 * replacing every file at once (a different drive mounted in the folder's place) still asks.
 */
export function currentWindow(head: HeadState, nowMs: number): DeletionWindow {
  return openWindow(head, nowMs) ?? { startMs: nowMs, liveAtStart: head.live, deleted: 0, created: 0 };
}

function openWindow(head: HeadState, nowMs: number): DeletionWindow | undefined {
  const window = head.window;
  return window && nowMs - window.startMs < MASS_DELETE_RULE.windowMs && nowMs >= window.startMs
    ? window
    : undefined;
}

/** True when deleting `deleting` more files now needs the user's confirmation. */
export function needsConfirmation(head: HeadState, nowMs: number, deleting: number): boolean {
  const window = currentWindow(head, nowMs);
  return isMassDelete({
    deleting: window.deleted + deleting,
    live: window.liveAtStart + window.created,
  });
}

/**
 * The head after a transaction that made `created` paths live and deleted `deleted` live files,
 * `moved` of which were moves (their content made live at another path by the same request).
 * Every deletion changes the live count; only the others count against the window, since a move
 * loses nothing. A confirmed deletion is the user's choice: it starts a new window from what is
 * left, so the next small deletion of the hour is not refused for it.
 */
export function nextHead(
  head: HeadState,
  seq: number,
  nowMs: number,
  change: {
    readonly created: number;
    readonly deleted: number;
    readonly moved?: number;
    readonly confirmed: boolean;
  },
): HeadState {
  const live = Math.max(0, head.live + change.created - change.deleted);
  const counted = change.deleted - (change.moved ?? 0);
  // A move's creation only replaces its deletion: it adds no live file.
  const added = Math.max(0, change.created - (change.moved ?? 0));
  if (counted > 0 && change.confirmed) {
    return { seq, live, window: { startMs: nowMs, liveAtStart: live, deleted: 0, created: 0 } };
  }
  // A window opens with a deletion, so the files created before it are the ones it protects.
  const window = counted > 0 ? currentWindow(head, nowMs) : openWindow(head, nowMs);
  return {
    seq,
    live,
    window: window && {
      ...window,
      deleted: window.deleted + counted,
      created: window.created + added,
    },
  };
}

import { MASS_DELETE_RULE, isMassDelete } from '@filesync/sync-core';
import type { DeletionWindow, HeadState } from './ports';

/**
 * Issue 6, kind 2, on the server: deletions are counted over a window of
 * MASS_DELETE_RULE.windowMs against the live files at the window's start, so a wipe split into
 * many small batches (or many calls) is caught like one big one.
 */
export function currentWindow(head: HeadState, nowMs: number): DeletionWindow {
  const window = head.window;
  if (window && nowMs - window.startMs < MASS_DELETE_RULE.windowMs && nowMs >= window.startMs) return window;
  return { startMs: nowMs, liveAtStart: head.live, deleted: 0 };
}

/** True when deleting `deleting` more files now needs the user's confirmation. */
export function needsConfirmation(head: HeadState, nowMs: number, deleting: number): boolean {
  const window = currentWindow(head, nowMs);
  return isMassDelete({ deleting: window.deleted + deleting, live: window.liveAtStart });
}

/** The head after a transaction that made `created` paths live and deleted `deleted` live files. */
export function nextHead(
  head: HeadState,
  seq: number,
  nowMs: number,
  created: number,
  deleted: number,
): HeadState {
  // A window opens with a deletion, so the files created before it are the ones it protects.
  const window = deleted > 0 ? currentWindow(head, nowMs) : head.window;
  return {
    seq,
    live: Math.max(0, head.live + created - deleted),
    window: window && { ...window, deleted: window.deleted + deleted },
  };
}

import type { Logger } from 'pino';
import type { StateDb } from '../state/state-db';
import { MassDeleteError, SyncIncompleteError, type SyncSummary } from '../sync/summary';
import { DEFAULT_FOLLOW_TIMING, followRemote, type FeedMode, type RemoteChangeFeed } from './change-feed';
import { realClock, type BackoffPolicy, type Clock } from './clock';
import { eventsSettled } from './local-changes';
import type { LocalEvents, LocalWatcher } from './local-watcher';
import {
  DEFAULT_SCHEDULER_TIMING,
  PassScheduler,
  type PassOutcome,
  type PassReason,
  type PassRequest,
} from './pass-scheduler';

export interface WatchTiming {
  /** Quiet time after the last file-system event before a pass, ms. */
  readonly debounceMs: number;
  /** Longest a file-system event waits for its pass while events keep coming, ms. */
  readonly maxDelayMs: number;
  /** Backoff between retries of a failed pass. */
  readonly retry: BackoffPolicy;
  /** Backoff between reconnects to the server's push stream (or polls that failed). */
  readonly reconnect: BackoffPolicy;
  /** Between polls of a server that does not serve the push stream, ms. */
  readonly pollIntervalMs: number;
  /** A pass at least this often even without events, catching any the watcher lost, ms. */
  readonly safetyPassMs: number;
}

export const DEFAULT_WATCH_TIMING: WatchTiming = {
  ...DEFAULT_SCHEDULER_TIMING,
  ...DEFAULT_FOLLOW_TIMING,
  safetyPassMs: 10 * 60_000,
};

/** What a watch reports as it goes (the CLI prints one line for each). */
export type WatchEvent =
  | { readonly kind: 'watching' }
  | {
      readonly kind: 'pass';
      readonly reasons: readonly PassReason[];
      readonly summary: SyncSummary;
      readonly ms: number;
    }
  | {
      readonly kind: 'pass-failed';
      readonly reasons: readonly PassReason[];
      readonly error: unknown;
      /** Retried after a backoff (a passing failure), or left for the next change. */
      readonly retrying: boolean;
    }
  | {
      readonly kind: 'server';
      readonly mode: FeedMode;
      readonly connected: boolean;
      readonly error?: unknown;
    }
  | { readonly kind: 'lost-events'; readonly reason: string };

export interface WatchDeps {
  /** The synced folder's real path. */
  readonly root: string;
  readonly namespaceId: string;
  readonly state: StateDb;
  readonly feed: RemoteChangeFeed;
  readonly renewSession: () => Promise<void>;
  /**
   * One sync pass of the folder (under the sync lock, its outcome recorded); throws as
   * FilesyncClient.sync does. `signal` stops it at a safe point.
   */
  readonly runPass: (options: { full: boolean; signal: AbortSignal }) => Promise<SyncSummary>;
  /** Starts watching the folder; resolves when events flow. */
  readonly watchLocal: (events: LocalEvents) => Promise<LocalWatcher>;
  /** Errors that end the watch (the folder is gone, the session is): the rest are retried. */
  readonly isFatal: (error: unknown) => boolean;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly timing?: Partial<WatchTiming>;
  readonly onEvent?: (event: WatchEvent) => void;
}

/**
 * Keeps one folder in sync until `signal` aborts: file-system events (debounced) and the
 * server's journal (push, or polling on a server without it) trigger passes, one at a time; a
 * pass that fails on something passing is retried with backoff. Resolves when stopped (the
 * running pass stopped at a safe point or finished); rejects with the error that ended it
 * otherwise (the folder went missing: nothing was deleted).
 */
export async function watchFolder(deps: WatchDeps, signal: AbortSignal): Promise<void> {
  const timing = { ...DEFAULT_WATCH_TIMING, ...deps.timing };
  const clock = deps.clock ?? realClock;
  const { root, state, logger } = deps;
  const emit = (event: WatchEvent) => deps.onEvent?.(event);
  const storedCursor = () => state.folderRecord(root)?.cursor ?? 0;
  const stop = new AbortController();
  const stopAll = () => stop.abort(signal.reason);
  signal.addEventListener('abort', stopAll, { once: true });
  let fatal: unknown;

  // The journal is followed from the cursor the first pass stored: a folder new to this device
  // would otherwise hear the namespace's whole history replayed.
  let firstPassEnded!: () => void;
  const firstPass = new Promise<void>((resolve) => (firstPassEnded = resolve));
  const pass = async (request: PassRequest): Promise<PassOutcome> => {
    try {
      return await attempt(request);
    } finally {
      firstPassEnded();
    }
  };
  const attempt = async (request: PassRequest): Promise<PassOutcome> => {
    const reasons = [...request.reasons];
    if (await needless(request)) {
      logger.debug({ reasons, paths: request.localPaths.size }, 'watch: nothing to do for these events');
      return 'ok';
    }
    const startedMs = clock.now();
    try {
      const summary = await deps.runPass({ full: request.full, signal: stop.signal });
      emit({ kind: 'pass', reasons, summary, ms: clock.now() - startedMs });
      return 'ok';
    } catch (error) {
      if (stop.signal.aborted) return 'stop';
      if (deps.isFatal(error)) {
        fatal = error;
        return 'stop';
      }
      // The guard stops every pass alike until the user decides; skipped paths stay skipped.
      const retrying =
        !(error instanceof MassDeleteError) &&
        !(error instanceof SyncIncompleteError && error.summary.failed.length === 0);
      emit({ kind: 'pass-failed', reasons, error, retrying });
      return retrying ? 'retry' : 'ok';
    }
  };

  /** Events a pass need not run for: its own writes, or a journal it has applied already. */
  const needless = async (request: PassRequest): Promise<boolean> => {
    const onlyEvents = [...request.reasons].every((reason) => reason === 'local' || reason === 'remote');
    if (!onlyEvents || request.full) return false;
    if (request.remoteCursor > storedCursor()) return false;
    return eventsSettled(root, request.localPaths, state);
  };

  const scheduler = new PassScheduler(pass, {
    debounceMs: timing.debounceMs,
    maxDelayMs: timing.maxDelayMs,
    retry: timing.retry,
    clock,
  });
  const watcher = await deps.watchLocal({
    changed: (path) => scheduler.local(path),
    lost: (reason) => {
      emit({ kind: 'lost-events', reason });
      scheduler.rescan();
    },
    // The pass finds the folder missing and ends the watch with the reason; nothing is deleted.
    folderGone: () => scheduler.kick('rescan'),
  });
  let safety: unknown;
  const armSafetyPass = () => {
    safety = clock.setTimer(() => {
      scheduler.kick('rescan');
      armSafetyPass();
    }, timing.safetyPassMs);
  };
  try {
    emit({ kind: 'watching' });
    scheduler.kick('start');
    armSafetyPass();
    const following = firstPass.then(() =>
      followRemote(deps.feed, {
        namespaceId: deps.namespaceId,
        storedCursor,
        onChanges: (cursor) => scheduler.remote(cursor),
        // A folder bound to a remote path passes only for changes below it (bound by the first pass).
        concerns: belowRemotePath(state.folder(root)?.remotePath ?? ''),
        onCursorAhead: () => scheduler.rescan(),
        onState: (feed) => emit({ kind: 'server', ...feed }),
        renewSession: deps.renewSession,
        signal: stop.signal,
        clock,
        pollIntervalMs: timing.pollIntervalMs,
        reconnect: timing.reconnect,
      }),
    );
    const stopped = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve()));
    await Promise.race([scheduler.done, stopped]);
    stop.abort();
    firstPassEnded();
    await scheduler.stop();
    await following;
  } finally {
    signal.removeEventListener('abort', stopAll);
    stop.abort();
    clock.clearTimer(safety);
    await watcher.close();
  }
  if (fatal !== undefined) throw fatal;
}

/** Whether a namespace path lies at or below `remotePath` ('' is the namespace root: every path). */
export function belowRemotePath(remotePath: string): (path: string) => boolean {
  if (remotePath === '') return () => true;
  return (path) => path === remotePath || path.startsWith(`${remotePath}/`);
}

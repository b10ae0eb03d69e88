import { backoffMs, sleep, type BackoffPolicy, type Clock } from './clock';

/** Journal entries of a namespace as the watch loop hears of them. */
export interface RemoteChanges {
  /** The journal cursor these changes bring the listener up to. */
  readonly cursor: number;
  /** Namespace paths the entries changed (empty for a heartbeat). */
  readonly paths: readonly string[];
}

/** The server does not serve the push stream (an older server): poll instead. */
export class PushUnsupportedError extends Error {
  override name = 'PushUnsupportedError';
}

/** The cursor asked from is past the server's journal (the namespace was recreated or restored). */
export class CursorAheadError extends Error {
  override name = 'CursorAheadError';
}

/** The session's access token expired during the stream: renew it and reconnect at once. */
export class FeedSessionExpiredError extends Error {
  override name = 'FeedSessionExpiredError';
}

/**
 * Where the watch loop hears of server changes; gRPC (grpc/change-feed.ts) is one implementation.
 * Any other error of either method (the network, the server restarting) is passing: the caller
 * retries after a backoff.
 */
export interface RemoteChangeFeed {
  /**
   * The namespace's changes after `afterCursor`: first those already committed, then each as it
   * commits, with heartbeats (no paths) in between. Never ends on its own: it throws, or returns
   * when `signal` aborts. Throws PushUnsupportedError, CursorAheadError, FeedSessionExpiredError.
   */
  watch(namespaceId: string, afterCursor: number, signal: AbortSignal): AsyncIterable<RemoteChanges>;
  /**
   * One page of the changes after `afterCursor` (`more` when there are others after it). Throws
   * CursorAheadError.
   */
  changesAfter(namespaceId: string, afterCursor: number): Promise<RemoteChanges & { more: boolean }>;
}

export type FeedMode = 'push' | 'poll';

export interface FollowOptions {
  readonly namespaceId: string;
  /** The cursor the folder's state has applied (read again at each reconnect). */
  readonly storedCursor: () => number;
  /** New server changes up to `cursor` exist. */
  readonly onChanges: (cursor: number) => void;
  /**
   * Whether a change of this namespace path concerns the folder (one bound to a remote path sees
   * only what lies below it); default: every path. Changes that concern it not at all start no
   * pass; a batch without paths (a heartbeat past what was heard) always does.
   */
  readonly concerns?: (path: string) => boolean;
  /** The stored cursor is past the journal: a full pass must set it afresh. */
  readonly onCursorAhead: () => void;
  /** The feed connected, fell back to polling, or lost the server (with the error). */
  readonly onState?: (state: { mode: FeedMode; connected: boolean; error?: unknown }) => void;
  readonly renewSession: () => Promise<void>;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Between polls of a server without push, ms. */
  readonly pollIntervalMs: number;
  readonly reconnect: BackoffPolicy;
}

export const DEFAULT_FOLLOW_TIMING = {
  pollIntervalMs: 2_000,
  reconnect: { baseMs: 500, maxMs: 30_000 },
} as const;

/**
 * Follows a namespace's journal until `signal` aborts: the push stream while the server serves
 * it, polling otherwise. Every loss of the server is survived: reconnects back off exponentially
 * with jitter and resume from the newer of the last cursor heard and the stored one, so nothing
 * committed meanwhile goes unheard (the stream replays what follows its cursor).
 */
export async function followRemote(feed: RemoteChangeFeed, options: FollowOptions): Promise<void> {
  const { signal, clock } = options;
  let mode: FeedMode = 'push';
  let heard = 0;
  let failures = 0;
  const concerns = options.concerns ?? (() => true);
  const announce = ({ cursor, paths }: RemoteChanges) => {
    if (cursor > heard) {
      heard = cursor;
      const relevant = paths.length === 0 || paths.some(concerns);
      if (relevant && cursor > options.storedCursor()) options.onChanges(cursor);
    }
  };
  while (!signal.aborted) {
    const from = Math.max(heard, options.storedCursor());
    try {
      if (mode === 'push') {
        for await (const changes of feed.watch(options.namespaceId, from, signal)) {
          if (failures > 0 || heard === 0) options.onState?.({ mode, connected: true });
          failures = 0;
          announce(changes);
        }
      } else {
        const page = await feed.changesAfter(options.namespaceId, from);
        if (failures > 0) options.onState?.({ mode, connected: true });
        failures = 0;
        // A journal that went backwards is a cursor past it.
        if (page.cursor < from) throw new CursorAheadError(`journal head ${page.cursor} < ${from}`);
        announce(page);
        if (!page.more) await sleep(clock, options.pollIntervalMs, signal);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof PushUnsupportedError) {
        mode = 'poll';
        options.onState?.({ mode, connected: true });
        continue;
      }
      if (error instanceof FeedSessionExpiredError) {
        await options.renewSession().catch(() => undefined);
        continue;
      }
      if (error instanceof CursorAheadError) {
        // Heard cursors belong to the old journal; the full pass stores the new head.
        heard = 0;
        options.onCursorAhead();
      } else {
        options.onState?.({ mode, connected: false, error });
      }
      failures += 1;
      await sleep(
        clock,
        backoffMs(failures, options.reconnect, () => clock.random()),
        signal,
      );
    }
  }
}

import { LIMITS } from '@filesync/resources';
import { failedPrecondition, resourceExhausted, unauthenticated } from '@filesync/server-kit';
import type { JournalPage } from './metadata-service';
import type { Advance, Clock } from './ports';

/** What a watch reads the journal through (MetadataService). */
export interface JournalReader {
  /** The namespace's journal sequence; 0 before the first commit. */
  head(namespaceId: string): Promise<number>;
  /** Journal entries after `afterSeq`, oldest first, at most `limit` (fewer at a byte budget). */
  listChanges(namespaceId: string, afterSeq: number, limit: number): Promise<JournalPage>;
}

/** One message of a watch: new journal entries, or none (a heartbeat) with the cursor so far. */
export interface WatchMessage {
  readonly entries: JournalPage['entries'];
  readonly cursor: number;
}

export interface WatchSettings {
  /** A stream silent this long re-reads its journal and, finding nothing, sends a heartbeat. Ms. */
  readonly heartbeatMs: number;
  /** Journal entries read per message while catching up. */
  readonly pageEntries: number;
  readonly clock: Clock;
}

export interface WatchStreamOptions {
  /** Aborted when the client cancels: the stream ends quietly. */
  readonly signal: AbortSignal;
  /** Unix ms the caller's access token expires at: then the stream ends UNAUTHENTICATED. */
  readonly expiresAtMs?: number;
}

/** One open stream's registration: its namespace, how far it has sent, and its wake-up. */
export class Watcher {
  private woken = false;
  private ended: Error | undefined;
  private resolveWait: (() => void) | undefined;
  private closed = false;

  constructor(
    readonly namespaceId: string,
    /** Sequence of the last entry the stream sent (or its starting cursor). */
    public cursor: number,
    private readonly release: (watcher: Watcher) => void,
  ) {}

  /** There may be entries after the cursor: the pending or next wait returns at once. */
  wake(): void {
    this.woken = true;
    this.resolveWait?.();
  }

  /** Ends the stream with `error` at its next wait (server shutdown). */
  end(error: Error): void {
    this.ended ??= error;
    this.resolveWait?.();
  }

  get endedWith(): Error | undefined {
    return this.ended;
  }

  /**
   * Waits until woken, ended, `signal` aborts or `ms` pass. True when woken (the wake is used up:
   * wakes while the stream was busy sending coalesce into one).
   */
  async wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (!this.woken && !this.ended && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.resolveWait = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        this.resolveWait = done;
      });
    }
    const woken = this.woken;
    this.woken = false;
    return woken;
  }

  /** Unregisters; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release(this);
  }
}

/**
 * The open watch streams of one task, by namespace: an advance wakes only the watchers of its
 * namespace that have not sent its sequence yet, so cost grows with watchers, never with
 * namespaces. Bounded: beyond `maxStreams` a new stream is refused RESOURCE_EXHAUSTED.
 */
export class WatchHub {
  private readonly byNamespace = new Map<string, Set<Watcher>>();
  private count = 0;
  private closedWith: Error | undefined;

  constructor(private readonly maxStreams: number = LIMITS.maxWatchStreamsPerTask) {}

  /** Streams open now. */
  get open(): number {
    return this.count;
  }

  /** Registers a stream of `namespaceId` starting after `cursor`; close() the watcher when it ends. */
  register(namespaceId: string, cursor: number): Watcher {
    if (this.closedWith) throw this.closedWith;
    if (this.count >= this.maxStreams) {
      throw resourceExhausted(
        `this server holds its most watch streams (${this.maxStreams}): reconnect, another server will take it`,
        1_000,
      );
    }
    const watcher = new Watcher(namespaceId, cursor, (closed) => this.release(closed));
    let set = this.byNamespace.get(namespaceId);
    if (!set) this.byNamespace.set(namespaceId, (set = new Set()));
    set.add(watcher);
    this.count += 1;
    return watcher;
  }

  /** Wakes the watchers of the advance's namespace that have not sent its sequence; returns how many. */
  advanced(advance: Advance): number {
    let woken = 0;
    for (const watcher of this.byNamespace.get(advance.namespaceId) ?? []) {
      if (watcher.cursor >= advance.seq) continue;
      watcher.wake();
      woken += 1;
    }
    return woken;
  }

  /** Ends every open stream with `error` and refuses new ones with it (shutdown: clients reconnect elsewhere). */
  close(error: Error): void {
    this.closedWith ??= error;
    for (const set of this.byNamespace.values()) for (const watcher of set) watcher.end(error);
  }

  private release(watcher: Watcher): void {
    const set = this.byNamespace.get(watcher.namespaceId);
    if (!set?.delete(watcher)) return;
    this.count -= 1;
    if (set.size === 0) this.byNamespace.delete(watcher.namespaceId);
  }
}

/**
 * Streams a namespace's journal after `afterSeq`: the backlog a page at a time, then new entries as
 * the hub wakes the stream, and a heartbeat after every `heartbeatMs` of silence (at once when
 * there is no backlog, so the client knows the stream is up). Each silence also re-reads the
 * journal, which recovers a wake-up that never came. The next message is read only once the
 * consumer took the previous one, so a slow client holds back reads, not a growing buffer.
 *
 * Errors: FAILED_PRECONDITION with detail `cursor: ahead` when `afterSeq` is beyond the journal;
 * RESOURCE_EXHAUSTED when the hub is full; UNAUTHENTICATED when the token expires; the hub's
 * close error at shutdown. A cancelled stream (signal aborted) just ends.
 */
export async function* watchJournal(
  reader: JournalReader,
  hub: WatchHub,
  settings: WatchSettings,
  namespaceId: string,
  afterSeq: number,
  options: WatchStreamOptions,
): AsyncGenerator<WatchMessage> {
  const { signal, expiresAtMs = Number.POSITIVE_INFINITY } = options;
  const { clock, heartbeatMs } = settings;
  // Registered before the first read: a commit during the backlog's reads wakes this stream.
  const watcher = hub.register(namespaceId, afterSeq);
  /** False when the stream must end quietly; throws when it must end with an error. */
  const goOn = () => {
    if (signal.aborted) return false;
    if (watcher.endedWith) throw watcher.endedWith;
    if (clock.now() >= expiresAtMs) {
      throw unauthenticated('access token expired: refresh the session and watch again from your cursor');
    }
    return true;
  };
  try {
    const head = await reader.head(namespaceId);
    if (afterSeq > head) {
      throw failedPrecondition(
        `after_cursor ${afterSeq} is beyond the journal (at ${head}): sync in full, then watch from its cursor`,
        { cursor: 'ahead' },
      );
    }
    let lastSentAt = Number.NEGATIVE_INFINITY;
    while (goOn()) {
      let sent = false;
      for (let more = true; more && goOn();) {
        const page = await reader.listChanges(namespaceId, watcher.cursor, settings.pageEntries);
        if (page.entries.length === 0) break;
        watcher.cursor = page.cursor;
        yield { entries: page.entries, cursor: page.cursor };
        [sent, lastSentAt, more] = [true, clock.now(), page.hasMore];
      }
      if (!goOn()) break;
      if (!sent && clock.now() - lastSentAt >= heartbeatMs) {
        yield { entries: [], cursor: watcher.cursor };
        lastSentAt = clock.now();
      }
      const now = clock.now();
      await watcher.wait(Math.max(0, Math.min(lastSentAt + heartbeatMs, expiresAtMs) - now), signal);
    }
  } finally {
    watcher.close();
  }
}

import {
  CursorAheadError,
  FeedSessionExpiredError,
  followRemote,
  PushUnsupportedError,
  type RemoteChangeFeed,
  type RemoteChanges,
} from './change-feed';
import { FakeClock, settle } from './testing/fake-clock';
import { belowRemotePath } from './watch-folder';

/** A feed whose streams the test drives: each watch() call is one connection. */
class ScriptedFeed implements RemoteChangeFeed {
  readonly connects: number[] = [];
  readonly polls: number[] = [];
  /** What each next watch() does: yield these batches and then throw this error (or wait). */
  readonly script: { batches: RemoteChanges[]; error?: Error }[] = [];
  head = 0;
  pushServed = true;

  async *watch(_namespaceId: string, afterCursor: number, signal: AbortSignal): AsyncIterable<RemoteChanges> {
    this.connects.push(afterCursor);
    if (!this.pushServed) throw new PushUnsupportedError('not served');
    const step = this.script.shift() ?? { batches: [] };
    for (const batch of step.batches) yield batch;
    if (step.error) throw step.error;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
  }

  async changesAfter(_namespaceId: string, afterCursor: number) {
    this.polls.push(afterCursor);
    return { cursor: Math.max(afterCursor, this.head), paths: [], more: false };
  }
}

function follow(feed: RemoteChangeFeed, stored = { cursor: 0 }, concerns?: (path: string) => boolean) {
  const clock = new FakeClock();
  const controller = new AbortController();
  const announced: number[] = [];
  const states: string[] = [];
  let ahead = 0;
  let renewed = 0;
  const done = followRemote(feed, {
    namespaceId: 'ns',
    storedCursor: () => stored.cursor,
    onChanges: (cursor) => announced.push(cursor),
    concerns,
    onCursorAhead: () => (ahead += 1),
    onState: (state) => states.push(`${state.mode}:${state.connected ? 'up' : 'down'}`),
    renewSession: async () => {
      renewed += 1;
    },
    signal: controller.signal,
    clock,
    pollIntervalMs: 2_000,
    reconnect: { baseMs: 500, maxMs: 30_000 },
  });
  return {
    clock,
    announced,
    states,
    ahead: () => ahead,
    renewed: () => renewed,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

describe('followRemote', () => {
  it('announces new cursors from the push stream, not heartbeats or what the folder has', async () => {
    const feed = new ScriptedFeed();
    feed.script.push({
      batches: [
        { cursor: 5, paths: [] },
        { cursor: 6, paths: ['a'] },
        { cursor: 6, paths: [] },
        { cursor: 8, paths: ['b', 'c'] },
      ],
    });
    const run = follow(feed, { cursor: 5 });
    await run.clock.advance(0);
    expect(feed.connects).toEqual([5]);
    expect(run.announced).toEqual([6, 8]);
    await run.stop();
  });

  it('a folder bound to a remote path passes only for changes below it, or when paths are unknown', async () => {
    const feed = new ScriptedFeed();
    feed.script.push({
      batches: [
        { cursor: 6, paths: ['Work/a.txt'] },
        { cursor: 7, paths: ['Photos2/b.jpg', 'Work/c'] },
        { cursor: 8, paths: ['Work/d', 'Photos/e.jpg'] },
        { cursor: 8, paths: [] },
        { cursor: 9, paths: ['Photos'] },
        // A heartbeat past what was heard: entries the stream did not name, so a pass.
        { cursor: 11, paths: [] },
      ],
    });
    const run = follow(feed, { cursor: 5 }, belowRemotePath('Photos'));
    await run.clock.advance(0);
    expect(run.announced).toEqual([8, 9, 11]);
    await run.stop();
    expect([
      belowRemotePath('')('anything'),
      belowRemotePath('A/B')('A/B/c'),
      belowRemotePath('A/B')('A/Bc'),
    ]).toEqual([true, true, false]);
  });

  it('reconnects after errors with growing backoff, resuming from the last cursor heard', async () => {
    const feed = new ScriptedFeed();
    feed.script.push(
      { batches: [{ cursor: 3, paths: ['a'] }], error: new Error('connection reset') },
      { batches: [], error: new Error('unavailable') },
      { batches: [], error: new Error('unavailable') },
      { batches: [{ cursor: 4, paths: ['b'] }] },
    );
    const run = follow(feed);
    await run.clock.advance(0);
    expect(feed.connects).toEqual([0]);
    await run.clock.advance(375); // the first backoff: 500 ms × jitter 0.75
    expect(feed.connects).toEqual([0, 3]);
    await run.clock.advance(749);
    expect(feed.connects).toHaveLength(2);
    await run.clock.advance(1);
    expect(feed.connects).toEqual([0, 3, 3]);
    await run.clock.advance(1_500);
    expect(feed.connects).toEqual([0, 3, 3, 3]);
    expect(run.announced).toEqual([3, 4]);
    expect(run.states).toContain('push:down');
    expect(run.states.at(-1)).toBe('push:up');
    await run.stop();
  });

  it('falls back to polling a server without push, and keeps announcing', async () => {
    const feed = new ScriptedFeed();
    feed.pushServed = false;
    const run = follow(feed, { cursor: 2 });
    await run.clock.advance(0);
    expect(run.states).toEqual(['poll:up']);
    expect(feed.polls).toEqual([2]);
    feed.head = 4;
    await run.clock.advance(2_000);
    expect(feed.polls).toEqual([2, 2]);
    expect(run.announced).toEqual([4]);
    await run.clock.advance(2_000);
    expect(feed.polls).toEqual([2, 2, 4]);
    expect(feed.connects).toHaveLength(1);
    await run.stop();
  });

  it('renews an expired session and reconnects at once; a cursor past the journal asks for a full pass', async () => {
    const feed = new ScriptedFeed();
    feed.script.push(
      { batches: [], error: new FeedSessionExpiredError('expired') },
      { batches: [], error: new CursorAheadError('ahead') },
    );
    const stored = { cursor: 10 };
    const run = follow(feed, stored);
    await run.clock.advance(0);
    expect(run.renewed()).toBe(1);
    expect(feed.connects).toEqual([10, 10]);
    expect(run.ahead()).toBe(1);
    stored.cursor = 3; // the full pass stored the server's head
    await run.clock.advance(500);
    expect(feed.connects).toEqual([10, 10, 3]);
    await run.stop();
  });

  it('stops when the signal aborts', async () => {
    const feed = new ScriptedFeed();
    const run = follow(feed);
    await run.clock.advance(0);
    await run.stop();
    await settle();
    expect(run.clock.pendingTimers).toBe(0);
  });
});

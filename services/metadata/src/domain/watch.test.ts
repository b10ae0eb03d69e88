// Unit tests of push (WatchChanges) with in-memory fakes: two "tasks" share one store, as metadata
// tasks share DynamoDB, and an in-memory bus plays the SNS topic with a queue per task.
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';
import { ACTOR, NS, blocksSetup, contentChange, deleteChange, hashOf, InMemoryStore } from '../testing/fakes';
import { Committer } from './commit';
import { MetadataService } from './metadata-service';
import type { Advance } from './ports';
import { WatchHub, type WatchMessage } from './watch';

/** Far longer than any test: a stream that needs its heartbeat re-read to see an entry hangs. */
const NEVER_MS = 600_000;

/** The fan-out: every published advance reaches every task's hub, unless `dropping`. */
class Bus {
  readonly hubs: WatchHub[] = [];
  dropping = false;
  publish(advance: Advance) {
    if (this.dropping) return;
    for (const hub of this.hubs) hub.advanced(advance);
  }
}

function cluster(options: { heartbeatMs?: number; maxStreams?: number; now?: () => number } = {}) {
  const store = new InMemoryStore();
  store.now = () => 5_000; // the committers' clock, which retention is judged by
  const { index, blocks } = blocksSetup();
  index.add(NS, hashOf(1));
  const bus = new Bus();
  const task = () => {
    const hub = new WatchHub(options.maxStreams ?? 100);
    bus.hubs.push(hub);
    const committer = new Committer({
      store,
      blocks,
      clock: { now: () => 5_000 },
      sleep: async () => undefined,
      // As service.ts wires it: this task's watchers at once, the others through the bus.
      onCommitted: (namespaceId, seq) => {
        hub.advanced({ namespaceId, seq });
        bus.publish({ namespaceId, seq });
      },
    });
    const service = new MetadataService(store, committer, blocks, undefined, {
      hub,
      settings: {
        heartbeatMs: options.heartbeatMs ?? NEVER_MS,
        pageEntries: 2,
        clock: { now: options.now ?? (() => Date.now()) },
      },
    });
    return { hub, service };
  };
  return { store, bus, a: task(), b: task() };
}

/** A watch stream read message by message, cancelled by close(). */
function open(service: MetadataService, afterSeq: number, namespaceId = NS, expiresAtMs?: number) {
  const controller = new AbortController();
  const stream = service.watchChanges(namespaceId, afterSeq, { signal: controller.signal, expiresAtMs });
  return {
    async next(): Promise<WatchMessage> {
      const result = await stream.next();
      if (result.done) throw new Error('the stream ended');
      return result.value;
    },
    /** Resolves with how the stream ended: 'done' or the error it threw. */
    async end(): Promise<unknown> {
      try {
        for (;;) if ((await stream.next()).done) return 'done';
      } catch (error) {
        return error;
      }
    },
    close: () => controller.abort(),
  };
}

const seqs = (message: WatchMessage) => message.entries.map((entry) => entry.seq);
const paths = (message: WatchMessage) =>
  message.entries.flatMap((entry) => entry.changes.map((change) => change.path));

describe('WatchChanges (push)', () => {
  it('sends the backlog after the cursor a page at a time, then entries committed on another task', async () => {
    const { a, b } = cluster();
    for (const path of ['one', 'two', 'three', 'four'])
      await a.service.commitOne(NS, ACTOR, contentChange(path, 0));
    const watch = open(b.service, 1);

    expect(seqs(await watch.next())).toEqual([2, 3]);
    const page = await watch.next();
    expect([seqs(page), page.cursor]).toEqual([[4], 4]);

    // Heartbeats are off: only the fan-out's wake-up can bring this one.
    await a.service.commitOne(NS, ACTOR, contentChange('five', 0));
    const live = await watch.next();
    expect([seqs(live), paths(live), live.cursor]).toEqual([[5], ['five'], 5]);
    watch.close();
  });

  it('says at once that it is up when there is no backlog: a heartbeat with the cursor', async () => {
    const { a, b } = cluster();
    await a.service.commitOne(NS, ACTOR, contentChange('one', 0));
    const watch = open(b.service, 1);
    expect(await watch.next()).toEqual({ entries: [], cursor: 1 });
    watch.close();
  });

  it('wakes every commit path: CommitFiles, DeleteFile, RestoreFiles, RestoreVersion', async () => {
    const { a, b } = cluster();
    const watch = open(b.service, 0);
    await watch.next(); // the opening heartbeat

    await a.service.commitMany(NS, ACTOR, [contentChange('doc', 0), contentChange('keep', 0)]);
    expect(paths(await watch.next())).toEqual(['doc', 'keep']);
    await a.service.commitOne(NS, ACTOR, deleteChange('doc', 1));
    expect(paths(await watch.next())).toEqual(['doc']);
    const restored = await a.service.restoreFiles(NS, ACTOR, ['doc']);
    expect(restored.outcomes.map((outcome) => outcome.kind)).toEqual(['restored']);
    expect(paths(await watch.next())).toEqual(['doc']);
    await a.service.restoreVersion(NS, ACTOR, 'doc', 1, 3);
    const last = await watch.next();
    expect([paths(last), last.cursor]).toEqual([['doc'], 4]);
    watch.close();
  });

  it('wakes only the watchers of the advanced namespace that have not sent its sequence', () => {
    const hub = new WatchHub(10);
    const behind = hub.register(NS, 3);
    const current = hub.register(NS, 5);
    const elsewhere = hub.register('ns-2', 0);
    expect(hub.advanced({ namespaceId: NS, seq: 5 })).toBe(1);
    expect(hub.advanced({ namespaceId: 'ns-3', seq: 1 })).toBe(0);
    for (const watcher of [behind, current, elsewhere]) watcher.close();
    expect(hub.open).toBe(0);
    expect(hub.advanced({ namespaceId: NS, seq: 9 })).toBe(0);
  });

  it('sends a heartbeat after each silence, with the cursor so far', async () => {
    const { a, b } = cluster({ heartbeatMs: 20 });
    await a.service.commitOne(NS, ACTOR, contentChange('one', 0));
    const watch = open(b.service, 0);
    expect(seqs(await watch.next())).toEqual([1]);
    expect(await watch.next()).toEqual({ entries: [], cursor: 1 });
    expect(await watch.next()).toEqual({ entries: [], cursor: 1 });
    watch.close();
  });

  it('recovers a lost wake-up by the re-read at each silence', async () => {
    const { a, b, bus } = cluster({ heartbeatMs: 30 });
    const watch = open(b.service, 0);
    expect(await watch.next()).toEqual({ entries: [], cursor: 0 });
    bus.dropping = true; // a publish that failed, or a task that died between commit and publish
    await a.service.commitOne(NS, ACTOR, contentChange('lost', 0));
    let message = await watch.next();
    // A heartbeat may already have been on its way when the commit landed.
    while (message.entries.length === 0) message = await watch.next();
    expect([paths(message), message.cursor]).toEqual([['lost'], 1]);
    watch.close();
  });

  it('refuses a cursor beyond the journal with the `cursor: ahead` detail', async () => {
    const { a, b } = cluster();
    await a.service.commitOne(NS, ACTOR, contentChange('one', 0));
    const error = await domainErrorRejectedBy(open(b.service, 2).next());
    expect([error.kind, error.details]).toEqual(['failed-precondition', { cursor: 'ahead' }]);
    expect(b.hub.open).toBe(0);
  });

  it('holds at most maxStreams streams per task, and frees a place when one ends', async () => {
    const { b } = cluster({ maxStreams: 1 });
    const first = open(b.service, 0);
    await first.next();
    const refused = await domainErrorRejectedBy(open(b.service, 0).next());
    expect([refused.kind, refused.details]).toEqual(['resource-exhausted', { 'retry-after-ms': '1000' }]);
    first.close();
    expect(await first.end()).toBe('done');
    const second = open(b.service, 0);
    expect(await second.next()).toEqual({ entries: [], cursor: 0 });
    second.close();
  });

  it('ends every stream at shutdown with the given error, and refuses new ones', async () => {
    const { b } = cluster();
    const watch = open(b.service, 0);
    await watch.next();
    const shutdown = new Error('shutting down');
    b.hub.close(shutdown);
    expect(await watch.end()).toBe(shutdown);
    expect(b.hub.open).toBe(0);
    await expect(open(b.service, 0).next()).rejects.toBe(shutdown);
  });

  it('ends quietly when the client cancels, and unregisters', async () => {
    const { b } = cluster();
    const watch = open(b.service, 0);
    await watch.next();
    expect(b.hub.open).toBe(1);
    watch.close();
    expect(await watch.end()).toBe('done');
    expect(b.hub.open).toBe(0);
  });

  it('ends UNAUTHENTICATED when the access token expires, so the client refreshes', async () => {
    const { b } = cluster();
    const watch = open(b.service, 0, NS, Date.now() + 30);
    await watch.next();
    const error = await watch.end();
    expect(error).toMatchObject({ kind: 'unauthenticated' });
    expect(b.hub.open).toBe(0);
  });
});

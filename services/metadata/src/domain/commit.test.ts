// Unit tests with in-memory fakes of the store and the block index (see testing/fakes.ts).
import { JOURNAL_INLINE_BLOCKS } from './model';
import { MetadataService } from './metadata-service';
import { ACTOR, NS, committerSetup, contentChange, deleteChange, hashOf } from '../testing/fakes';
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';

function setup(options: { maxRaceRetries?: number } = {}) {
  let kicks = 0;
  const { store, storage, blocks, committer } = committerSetup({
    onCommitted: () => {
      kicks += 1;
    },
    ...options,
  });
  const service = new MetadataService(store, committer, blocks);
  return { store, storage, committer, service, kicks: () => kicks };
}

describe('Committer', () => {
  it('commits new files in one transaction: one journal entry, one event, next sequence', async () => {
    const { store, committer, kicks } = setup();
    const result = await committer.commit(NS, ACTOR, [
      contentChange('a', 0),
      contentChange('b/c', 0, [2, 3]),
    ]);

    expect(result.cursor).toBe(1);
    expect(result.outcomes.map((outcome) => [outcome.kind, outcome.path])).toEqual([
      ['committed', 'a'],
      ['committed', 'b/c'],
    ]);
    expect(store.journal).toHaveLength(1);
    expect(store.events.map((event) => event.eventId)).toEqual([`${NS}:1`]);
    expect(kicks()).toBe(1);
  });

  it('fills transactions up to 100 items (97 new files each), one journal entry and event each', async () => {
    const { store, committer } = setup();
    const changes = Array.from({ length: 120 }, (_, index) => contentChange(`f/${index}`, 0));
    const result = await committer.commit(NS, ACTOR, changes);

    expect(store.transactions.map((write) => write.files.length)).toEqual([97, 23]);
    expect(store.journal.map((record) => [record.seq, record.changes.length])).toEqual([
      [1, 97],
      [2, 23],
    ]);
    expect(store.events.map((event) => event.seq)).toEqual([1, 2]);
    expect(result.cursor).toBe(2);
    expect(result.outcomes.every((outcome) => outcome.kind === 'committed')).toBe(true);
  });

  it('keeps the version an edit or a deletion supersedes until the retention period ends', async () => {
    const day = 24 * 60 * 60 * 1000;
    let now = 5_000;
    const { store, committer } = committerSetup({ clock: { now: () => now }, retentionMs: 30 * day });
    await committer.commit(NS, ACTOR, [contentChange('a', 0, [1]), contentChange('b', 0, [2])]);
    now = 6_000;
    await committer.commit(NS, ACTOR, [contentChange('a', 1, [3]), deleteChange('b', 1)]);

    const [, second] = store.transactions;
    expect(second!.supersededExpireAtMs).toBe(6_000 + 30 * day);
    expect(
      second!.files.map(({ entry, superseded }) => [entry.path, entry.version, superseded?.version]),
    ).toEqual([
      ['b', 2, 1],
      ['a', 2, 1],
    ]);
    expect(
      (await store.listVersions(NS, 'a')).map((entry) => [entry.version, entry.content?.blockHashes]),
    ).toEqual([
      [2, [hashOf(3)]],
      [1, [hashOf(1)]],
    ]);
    // The deleted file's last content is its trash until the period ends; then only the tombstone is left.
    expect((await store.listVersions(NS, 'b')).map((entry) => [entry.version, entry.deleted])).toEqual([
      [2, true],
      [1, false],
    ]);
    now = 6_000 + 30 * day;
    expect((await store.listVersions(NS, 'a')).map((entry) => entry.version)).toEqual([2]);
    expect((await store.listVersions(NS, 'b')).map((entry) => [entry.version, entry.deleted])).toEqual([
      [2, true],
    ]);
  });

  it('answers ListChanges with superseded versions while retained, and the journal’s own facts after', async () => {
    let now = 5_000;
    const { store, committer } = committerSetup({ clock: { now: () => now }, retentionMs: 1_000 });
    const service = new MetadataService(store, committer, committerSetup().blocks, 1_000, {
      settings: { clock: { now: () => now } },
    });
    await committer.commit(NS, ACTOR, [contentChange('a', 0, [1])]);
    await committer.commit(NS, ACTOR, [contentChange('a', 1, [2])]);
    const blocksOf = async () =>
      (await service.listChanges(NS, 0, 10)).entries.map(({ seq, changes }) => [
        seq,
        changes[0]!.version,
        changes[0]!.content?.blockHashes,
      ]);
    expect(await blocksOf()).toEqual([
      [1, 1, [hashOf(1)]],
      [2, 2, [hashOf(2)]],
    ]);
    now = 6_000;
    expect(await blocksOf()).toEqual([
      [1, 1, []],
      [2, 2, [hashOf(2)]],
    ]);
  });

  it('answers ListChanges from the journal alone for short block lists and deletions while no version can have expired', async () => {
    let now = 5_000;
    const { store, committer } = committerSetup({ clock: { now: () => now }, retentionMs: 1_000 });
    const service = new MetadataService(store, committer, committerSetup().blocks, 1_000, {
      settings: { clock: { now: () => now } },
    });
    const long = Array.from({ length: JOURNAL_INLINE_BLOCKS + 1 }, (_, index) => 10 + index);
    await committer.commit(NS, ACTOR, [contentChange('gone', 0, [1])]);
    await committer.commit(NS, ACTOR, [contentChange('small', 0, [2]), contentChange('large', 0, long)]);
    const deleted = await committer.commit(NS, ACTOR, [deleteChange('gone', 1)], { confirmMassDelete: true });
    expect(deleted.outcomes[0]?.kind).toBe('committed');
    const asked: string[] = [];
    const getVersions = store.getVersions.bind(store);
    store.getVersions = async (namespaceId, refs) => {
      asked.push(...refs.map(({ path, version }) => `${path}@${version}`));
      return getVersions(namespaceId, refs);
    };
    const answer = async () =>
      (await service.listChanges(NS, 1, 10)).entries.flatMap(({ changes }) =>
        changes.map((change) => [change.path, change.deleted, change.content?.blockHashes.length]),
      );
    const expected = [
      ['small', false, 1],
      ['large', false, long.length],
      ['gone', true, undefined],
    ];
    expect(await answer()).toEqual(expected);
    expect(asked).toEqual(['large@1']);

    // Once the record is older than the retention period, its versions may have expired: read.
    asked.length = 0;
    now = 6_000;
    expect(await answer()).toEqual(expected);
    expect(asked.sort()).toEqual(['large@1', 'small@1']);
  });

  it('reports stale bases as conflicts and commits the rest', async () => {
    const { store, committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('a', 0)]);
    const result = await committer.commit(NS, ACTOR, [contentChange('a', 0, [2]), contentChange('b', 0)]);

    expect(result.outcomes[0]).toMatchObject({ kind: 'conflict', path: 'a', current: { version: 1 } });
    expect(result.outcomes[1]).toMatchObject({ kind: 'committed', entry: { version: 1, journalSeq: 2 } });
    expect(store.files.size).toBe(2);
  });

  it('reads the head once per call, not once per transaction, while no other commit moves it', async () => {
    const { store, committer } = setup();
    let reads = 0;
    const original = store.readHeadState.bind(store);
    store.readHeadState = (namespaceId) => {
      reads += 1;
      return original(namespaceId);
    };
    const changes = Array.from({ length: 300 }, (_, index) => contentChange(`f/${index}`, 0));
    const result = await committer.commit(NS, ACTOR, changes);
    expect(store.transactions).toHaveLength(4);
    expect(reads).toBe(1);
    expect(result.cursor).toBe(4);
    expect((await original(NS)).live).toBe(300);
  });

  it('reads no entries for creations; a creation over a tombstone that names version 0 is a conflict', async () => {
    const { store, committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('gone', 0), contentChange('keep', 0)]);
    await committer.commit(NS, ACTOR, [deleteChange('gone', 1)]);
    const read: string[] = [];
    const original = store.currentEntries.bind(store);
    store.currentEntries = (namespaceId, paths) => {
      read.push(...paths);
      return original(namespaceId, paths);
    };
    const result = await committer.commit(NS, ACTOR, [
      contentChange('new', 0),
      contentChange('gone', 0, [2]),
    ]);
    // The conflict is found by the transaction's condition, then its current entry is read to report it.
    expect(read).toEqual(['gone']);
    expect(result.outcomes[0]).toMatchObject({ kind: 'committed', path: 'new' });
    expect(result.outcomes[1]).toMatchObject({
      kind: 'conflict',
      path: 'gone',
      current: { version: 2, deleted: true },
    });
  });

  it('drops a file another writer changed during the transaction and retries the others', async () => {
    const { store, committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('a', 0), contentChange('b', 0)]);
    store.beforeCommit = () => {
      // A concurrent writer bumps "a" without moving the head (as if planned before our read).
      store.put({ ...store.files.get(`${NS}\u0000a`)!, version: 2 });
    };
    const result = await committer.commit(NS, ACTOR, [
      contentChange('a', 1, [3]),
      contentChange('b', 1, [4]),
    ]);

    expect(result.outcomes[0]).toMatchObject({ kind: 'conflict', current: { version: 2 } });
    expect(result.outcomes[1]).toMatchObject({ kind: 'committed', entry: { version: 2 } });
    expect(store.transactions.at(-1)!.files.map(({ entry }) => entry.path)).toEqual(['b']);
  });

  it('retries at the new sequence when another commit took the head', async () => {
    const { store, committer } = setup();
    store.beforeCommit = () => store.heads.set(NS, 5);
    const result = await committer.commit(NS, ACTOR, [contentChange('a', 0)]);

    expect(store.transactions.map((write) => write.expectedSeq)).toEqual([0, 5]);
    expect(result.cursor).toBe(6);
    expect(result.outcomes[0]).toMatchObject({ kind: 'committed', entry: { journalSeq: 6 } });
    expect(store.events.map((event) => event.eventId)).toEqual([`${NS}:6`]);
  });

  it('gives up with UNAVAILABLE after bounded head races', async () => {
    const { store, committer } = setup({ maxRaceRetries: 2 });
    const racer = () => {
      store.heads.set(NS, (store.heads.get(NS) ?? 0) + 1);
      store.beforeCommit = racer;
    };
    store.beforeCommit = racer;
    const error = await domainErrorRejectedBy(committer.commit(NS, ACTOR, [contentChange('a', 0)]));
    expect(error.kind).toBe('unavailable');
    expect(store.transactions).toHaveLength(3);
  });

  it('reports changes naming missing blocks and commits the others', async () => {
    const { store, committer } = setup();
    const result = await committer.commit(NS, ACTOR, [
      contentChange('a', 0, [1, 99, 98, 99]),
      contentChange('b', 0, [2]),
    ]);
    expect(result.outcomes[0]).toEqual({
      kind: 'missing-blocks',
      path: 'a',
      blockHashes: [hashOf(99), hashOf(98)],
    });
    expect(result.outcomes[1]!.kind).toBe('committed');
    expect(store.files.size).toBe(1);
  });

  it('commits nothing and keeps the cursor when every change is rejected', async () => {
    const { store, committer, kicks } = setup();
    await committer.commit(NS, ACTOR, [contentChange('a', 0)]);
    const result = await committer.commit(NS, ACTOR, [contentChange('a', 7)]);
    expect(result.cursor).toBe(1);
    expect(store.transactions).toHaveLength(1);
    expect(kicks()).toBe(1);
  });

  it('writes the resolved followers into the event', async () => {
    const { store, committer } = setup();
    await store.putFollow({
      namespaceId: NS,
      path: 'docs',
      userId: 'u2',
      email: 'u2@example.com',
      emailVerified: true,
    });
    await committer.commit(NS, ACTOR, [contentChange('docs/a', 0), contentChange('docs2/a', 0)]);
    expect(store.events[0]!.recipients).toEqual([
      { userId: 'u2', email: 'u2@example.com', emailVerified: true, paths: ['docs/a'] },
    ]);
  });
});

describe('MetadataService.commitOne', () => {
  it('answers a stale base with FAILED_PRECONDITION naming the current version', async () => {
    const { service } = setup();
    await service.commitOne(NS, ACTOR, contentChange('a', 0));
    await service.commitOne(NS, ACTOR, contentChange('a', 1, [2]));
    const error = await domainErrorRejectedBy(service.commitOne(NS, ACTOR, contentChange('a', 1, [3])));
    expect(error.kind).toBe('failed-precondition');
    expect(error.message).toContain('current version is 2');
    expect(error.details).toEqual({ 'current-version': '2' });
  });

  it('answers missing blocks with FAILED_PRECONDITION listing them', async () => {
    const { service } = setup();
    const error = await domainErrorRejectedBy(
      service.commitOne(NS, ACTOR, contentChange('a', 0, [1, 50, 51])),
    );
    expect(error.kind).toBe('failed-precondition');
    expect(error.details).toEqual({ 'missing-blocks': `${hashOf(50)},${hashOf(51)}` });
  });

  it('deletes with a tombstone, then refuses deleting again or an absent path', async () => {
    const { service } = setup();
    // Another live file, so deleting `a` is not the mass deletion of every file.
    await service.commitOne(NS, ACTOR, contentChange('keep', 0));
    await service.commitOne(NS, ACTOR, contentChange('a', 0));
    const { entry, cursor } = await service.commitOne(NS, ACTOR, deleteChange('a', 1));
    expect(entry).toMatchObject({ version: 2, deleted: true, content: undefined });
    expect(cursor).toBe(3);

    const again = await domainErrorRejectedBy(service.commitOne(NS, ACTOR, deleteChange('a', 2)));
    expect(again.kind).toBe('failed-precondition');
    expect(again.details).toEqual({ 'current-version': '2' });
    expect((await domainErrorRejectedBy(service.commitOne(NS, ACTOR, deleteChange('nope', 0)))).kind).toBe(
      'not-found',
    );
  });
});

describe('MetadataService queries', () => {
  it('lists files with or without tombstones and the cursor read first', async () => {
    const { service } = setup();
    await service.commitMany(
      NS,
      ACTOR,
      ['a', 'b', 'c', 'd'].map((path) => contentChange(path, 0)),
    );
    await service.commitOne(NS, ACTOR, deleteChange('b', 1));
    const collect = async (includeDeleted: boolean) => {
      const { cursor, pages } = await service.listFiles(NS, includeDeleted);
      const paths: string[] = [];
      for await (const page of pages) paths.push(...page.map((e) => e.path));
      return { cursor, paths };
    };
    expect(await collect(false)).toEqual({ cursor: 2, paths: ['a', 'c', 'd'] });
    expect((await collect(true)).paths).toEqual(['a', 'b', 'c', 'd']);
  });

  it('lists versions newest first and NOT_FOUND for an unknown path', async () => {
    const { service } = setup();
    await service.commitOne(NS, ACTOR, contentChange('a', 0));
    await service.commitOne(NS, ACTOR, contentChange('a', 1, [2]));
    expect((await service.listVersions(NS, 'a')).map((e) => e.version)).toEqual([2, 1]);
    expect((await domainErrorRejectedBy(service.listVersions(NS, 'b'))).kind).toBe('not-found');
    expect((await domainErrorRejectedBy(service.getFile(NS, 'b'))).kind).toBe('not-found');
  });

  it('pages the journal with full entries and a cursor to continue from', async () => {
    const { service } = setup();
    for (const path of ['a', 'b', 'c']) await service.commitOne(NS, ACTOR, contentChange(path, 0, [4]));
    const first = await service.listChanges(NS, 0, 2);
    expect(first.entries.map((e) => [e.seq, e.changes.map((c) => c.path)])).toEqual([
      [1, ['a']],
      [2, ['b']],
    ]);
    expect(first.entries[0]!.changes[0]!.content!.blockHashes).toEqual([hashOf(4)]);
    expect(first).toMatchObject({ cursor: 2, hasMore: true });
    expect(await service.listChanges(NS, 2, 2)).toMatchObject({ cursor: 3, hasMore: false });
    expect(await service.listChanges(NS, 3, 2)).toEqual({ entries: [], cursor: 3, hasMore: false });
  });

  it('kind 10: ends a journal page early when files of many blocks would make it too large', async () => {
    const { service, store } = setup();
    const blockHashes = Array.from({ length: 50_000 }, (_, index) => hashOf(index));
    for (const path of ['a', 'b', 'c', 'd']) {
      await service.commitOne(NS, ACTOR, contentChange(path, 0));
      const committed = (await store.currentEntries(NS, [path])).get(path)!;
      store.put({ ...committed, content: { contentHash: 'h', size: 50_000, blockHashes } });
    }
    const first = await service.listChanges(NS, 0, 100);
    expect(first.entries.map((entry) => entry.seq)).toEqual([1, 2]);
    expect(first).toMatchObject({ cursor: 2, hasMore: true });
    expect(first.entries[1]!.changes[0]!.content!.blockHashes).toHaveLength(50_000);
    expect((await service.listChanges(NS, 2, 100)).entries.map((entry) => entry.seq)).toEqual([3, 4]);
  });

  it('kind 10: reads block lists only for the journal records a page can hold', async () => {
    const { service, store } = setup();
    for (const path of ['a', 'b', 'c']) {
      const change = contentChange(path, 0);
      // 20 GB: at least 20e9 / chunkMinBytes blocks, several MB of hashes each.
      await service.commitOne(NS, ACTOR, { ...change, content: { ...change.content!, size: 20e9 } });
    }
    const asked: number[] = [];
    const getVersions = store.getVersions.bind(store);
    store.getVersions = async (namespaceId, refs) => {
      asked.push(refs.length);
      return getVersions(namespaceId, refs);
    };
    const page = await service.listChanges(NS, 0, 100);
    expect(page).toMatchObject({ cursor: 1, hasMore: true });
    expect(asked).toEqual([1]);
  });

  it('follows and unfollows idempotently', async () => {
    const { service, store } = setup();
    await service.follow(NS, 'docs', ACTOR);
    await service.follow(NS, 'docs', ACTOR);
    expect(await store.listFollows(NS)).toHaveLength(1);
    await service.unfollow(NS, 'docs', ACTOR);
    await service.unfollow(NS, 'docs', ACTOR);
    expect(await store.listFollows(NS)).toHaveLength(0);
  });
});

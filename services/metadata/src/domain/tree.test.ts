// Unit tests of the tree rule (issue 6, kind 4) through the Committer, with the in-memory store.
import { ancestorsOf } from './tree';
import { ACTOR, NS, committerSetup, contentChange, deleteChange } from '../testing/fakes';

/** `perTransaction` files fit one transaction whatever their kind (a deletion costs 2 items, a new file 1). */
const setup = (perTransaction = 32) => committerSetup({ maxItemsPerTransaction: 3 + 2 * perTransaction });

const summary = (outcomes: readonly { kind: string; path: string }[]) =>
  outcomes.map((outcome) => [
    outcome.path,
    outcome.kind,
    (outcome as { clashingPath?: string }).clashingPath,
  ]);

describe('kind 4: a namespace is a tree (no live file at a folder of another live file)', () => {
  it('lists the folders above a path', () => {
    expect(ancestorsOf('a/b/c.txt')).toEqual(['a', 'a/b']);
    expect(ancestorsOf('top')).toEqual([]);
  });

  it('refuses a file below a live file, naming the file', async () => {
    const { store, committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('plan', 0)]);
    const { outcomes } = await committer.commit(NS, ACTOR, [
      contentChange('plan/ch1.txt', 0),
      contentChange('other.txt', 0),
    ]);
    expect(summary(outcomes)).toEqual([
      ['plan/ch1.txt', 'rejected', 'plan'],
      ['other.txt', 'committed', undefined],
    ]);
    expect(outcomes[0]).toMatchObject({
      reason: 'path-clash',
      message: expect.stringContaining('plan is a file'),
    });
    expect(store.files.has(`${NS}\u0000plan/ch1.txt`)).toBe(false);
  });

  it('refuses a file where live files lie below, naming one of them', async () => {
    const { committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('plan/a/ch1.txt', 0)]);
    const { outcomes } = await committer.commit(NS, ACTOR, [contentChange('plan', 0)]);
    expect(summary(outcomes)).toEqual([['plan', 'rejected', 'plan/a/ch1.txt']]);
  });

  it('allows the path once the clashing file is deleted, and a tombstone never clashes', async () => {
    const { committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('keep', 0), contentChange('plan', 0)]);
    await committer.commit(NS, ACTOR, [deleteChange('plan', 1)]);
    const { outcomes } = await committer.commit(NS, ACTOR, [contentChange('plan/ch1.txt', 0)]);
    expect(summary(outcomes)).toEqual([['plan/ch1.txt', 'committed', undefined]]);
  });

  it('refuses the later of two new clashing paths in one request, in either order', async () => {
    const { committer } = setup();
    const first = await committer.commit(NS, ACTOR, [contentChange('a', 0), contentChange('a/b', 0)]);
    expect(summary(first.outcomes)).toEqual([
      ['a', 'committed', undefined],
      ['a/b', 'rejected', 'a'],
    ]);
    const second = await committer.commit(NS, ACTOR, [contentChange('x/y/z', 0), contentChange('x', 0)]);
    expect(summary(second.outcomes)).toEqual([
      ['x/y/z', 'committed', undefined],
      ['x', 'rejected', 'x/y/z'],
    ]);
  });

  it('accepts replacing a file by a folder, or a folder by a file, in one request', async () => {
    const { store, committer } = setup();
    await committer.commit(NS, ACTOR, [
      contentChange('keep', 0),
      contentChange('notes', 0),
      contentChange('dir/one', 0),
      contentChange('dir/two', 0),
    ]);
    // The creation comes first in the request: deletions still apply first.
    const { outcomes } = await committer.commit(NS, ACTOR, [
      contentChange('notes/part1.txt', 0),
      deleteChange('notes', 1),
      contentChange('dir', 0),
      deleteChange('dir/one', 1),
      deleteChange('dir/two', 1),
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(Array(5).fill('committed'));
    expect(store.files.get(`${NS}\u0000notes`)?.deleted).toBe(true);
  });

  it('keeps the replace case across transactions: deletions go in the first ones', async () => {
    const { committer } = setup(2);
    await committer.commit(NS, ACTOR, [
      contentChange('keep', 0),
      contentChange('k2', 0),
      contentChange('notes', 0),
    ]);
    const { outcomes } = await committer.commit(NS, ACTOR, [
      contentChange('a', 0),
      contentChange('b', 0),
      contentChange('notes/part1.txt', 0),
      deleteChange('notes', 1),
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(Array(4).fill('committed'));
  });

  it('does not check edits of a live file (they satisfied the rule when they became live)', async () => {
    const { store, committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('a/b', 0)]);
    // A namespace that broke the rule before it was enforced can still edit its files.
    store.put({ ...(await store.currentEntries(NS, ['a/b'])).get('a/b')!, path: 'a', version: 1 });
    const { outcomes } = await committer.commit(NS, ACTOR, [contentChange('a/b', 1)]);
    expect(summary(outcomes)).toEqual([['a/b', 'committed', undefined]]);
  });

  it('checks again after losing a race: a concurrent commit of the clashing path wins once', async () => {
    const { store, committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('keep', 0)]);
    // Another writer commits file `plan` between our tree check and our transaction.
    store.beforeCommit = (write) => {
      const seq = write.expectedSeq + 1;
      store.put({ ...write.files[0]!.entry, path: 'plan', version: 1, journalSeq: seq });
      store.heads.set(NS, seq);
    };
    const { outcomes } = await committer.commit(NS, ACTOR, [contentChange('plan/x', 0)]);
    expect(summary(outcomes)).toEqual([['plan/x', 'rejected', 'plan']]);
  });
});

describe('kind 4 at the cost of batched reads, not a query per file (issue 7: a first sync of many files)', () => {
  /**
   * `newFiles` new files a transaction; counts the store's index queries for a live file below a
   * path (the fakes are in-memory ports).
   */
  const counting = (newFiles: number) => {
    const context = committerSetup({ maxItemsPerTransaction: 3 + newFiles });
    const asked: string[] = [];
    const original = context.store.firstLiveBelow.bind(context.store);
    context.store.firstLiveBelow = (namespaceId, folder, ignoring) => {
      asked.push(folder);
      return original(namespaceId, folder, ignoring);
    };
    return { ...context, asked };
  };
  const files = (folder: string, count: number) =>
    Array.from({ length: count }, (_, index) => contentChange(`${folder}/file-${index}.txt`, 0));

  it('queries nothing per file when new files land in new and in filled folders, and commits every file', async () => {
    const { store, committer, asked } = counting(4);
    await committer.commit(NS, ACTOR, files('a', 3));
    // Smallest first: a client's commits interleave many folders, each already holding files.
    const { outcomes } = await committer.commit(NS, ACTOR, [...files('b/c', 6), ...files('a', 10).slice(3)]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(Array(13).fill('committed'));
    expect(store.transactions).toHaveLength(1 + 4);
    expect(asked).toEqual([]);
  });

  it('marks the folders of every file it commits, before the transaction', async () => {
    const { store, committer } = counting(4);
    let markedWhenWritten: boolean[] = [];
    store.beforeCommit = () => {
      markedWhenWritten = ['x', 'x/y'].map((folder) => store.folderMarkers.has(`${NS}\u0000${folder}`));
    };
    await committer.commit(NS, ACTOR, [contentChange('x/y/z.txt', 0)]);
    expect(markedWhenWritten).toEqual([true, true]);
  });

  it('queries below a new path only where that path was a folder, and refuses it while a file lies below', async () => {
    const { committer, asked } = counting(4);
    await committer.commit(NS, ACTOR, [
      contentChange('docs/old/a.txt', 0),
      contentChange('docs/keep.txt', 0),
    ]);
    const { outcomes } = await committer.commit(NS, ACTOR, [
      contentChange('docs/old', 0),
      contentChange('docs/new', 0),
    ]);
    expect(summary(outcomes)).toEqual([
      ['docs/old', 'rejected', 'docs/old/a.txt'],
      ['docs/new', 'committed', undefined],
    ]);
    expect(asked).toEqual(['docs/old']);
  });

  it('allows a file where a folder was, once its files are deleted (the marker stays, the query decides)', async () => {
    const { committer } = counting(4);
    await committer.commit(NS, ACTOR, [contentChange('docs/old/a.txt', 0), contentChange('keep', 0)]);
    await committer.commit(NS, ACTOR, [deleteChange('docs/old/a.txt', 1)]);
    const { outcomes } = await committer.commit(NS, ACTOR, [contentChange('docs/old', 0)]);
    expect(summary(outcomes)).toEqual([['docs/old', 'committed', undefined]]);
  });

  it('still refuses a file at a folder that an earlier transaction of the same call filled', async () => {
    // Three new files a transaction: `docs/x` is checked in the second one.
    const { store, committer } = counting(3);
    const { outcomes } = await committer.commit(NS, ACTOR, [
      contentChange('docs/a', 0),
      contentChange('docs/b', 0),
      contentChange('docs/x/y.txt', 0),
      contentChange('docs/x', 0),
    ]);
    expect(summary(outcomes)).toEqual([
      ['docs/a', 'committed', undefined],
      ['docs/b', 'committed', undefined],
      ['docs/x/y.txt', 'committed', undefined],
      ['docs/x', 'rejected', 'docs/x/y.txt'],
    ]);
    expect(store.transactions).toHaveLength(1);
  });

  it('finds the clash with a file another writer committed below a new path between two transactions', async () => {
    const { store, committer } = counting(3);
    let transactions = 0;
    // Another writer commits `docs/c/x.txt` just before our second transaction.
    const racer = (write: Parameters<NonNullable<typeof store.beforeCommit>>[0]) => {
      transactions += 1;
      if (transactions < 2) {
        store.beforeCommit = racer;
        return;
      }
      const seq = write.expectedSeq + 1;
      store.put({ ...write.files[0]!.entry, path: 'docs/c/x.txt', version: 1, journalSeq: seq });
      store.heads.set(NS, seq);
    };
    store.beforeCommit = racer;
    const { outcomes } = await committer.commit(NS, ACTOR, [
      contentChange('docs/a', 0),
      contentChange('docs/b', 0),
      contentChange('docs/e', 0),
      contentChange('docs/c', 0),
      contentChange('docs/d', 0),
    ]);
    expect(summary(outcomes)).toEqual([
      ['docs/a', 'committed', undefined],
      ['docs/b', 'committed', undefined],
      ['docs/e', 'committed', undefined],
      ['docs/c', 'rejected', 'docs/c/x.txt'],
      ['docs/d', 'committed', undefined],
    ]);
  });
});

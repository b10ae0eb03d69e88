// Unit tests of the tree rule (issue 6, kind 4) through the Committer, with the in-memory store.
import { ancestorsOf } from './tree';
import { ACTOR, NS, committerSetup, contentChange, deleteChange } from '../testing/fakes';

/** `perTransaction` files fit one transaction whatever their kind (a deletion costs 3 items). */
const setup = (perTransaction = 32) => committerSetup({ maxItemsPerTransaction: 3 + 3 * perTransaction });

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

describe('kind 4 at the cost of the folders, not the files (issue 7: a first sync of many files)', () => {
  /** Counts the store's index queries for a live file below a path. */
  const counting = (perTransaction: number) => {
    const context = setup(perTransaction);
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

  it('asks once per new folder for a call of many transactions, and commits every file', async () => {
    const { store, committer, asked } = counting(4);
    const { outcomes } = await committer.commit(NS, ACTOR, [...files('a', 10), ...files('b/c', 6)]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(Array(16).fill('committed'));
    expect(store.transactions).toHaveLength(3);
    expect(asked).toEqual(['a', 'b/c']);
  });

  it('asks per file in a folder that already holds live files', async () => {
    const { committer, asked } = counting(4);
    await committer.commit(NS, ACTOR, files('a', 1));
    asked.length = 0;
    await committer.commit(NS, ACTOR, files('a', 4).slice(1));
    expect(asked).toEqual(['a', 'a/file-1.txt', 'a/file-2.txt', 'a/file-3.txt']);
  });

  it('still refuses a file at a folder that an earlier transaction of the same call filled', async () => {
    // Three new files a transaction: `docs/x` is checked in the second one.
    const { store, committer } = counting(2);
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

  it('forgets an empty folder once another commit moved the head, and finds its clash', async () => {
    const { store, committer } = counting(2);
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

// Moves (issue 8, section 4): unit tests over the in-memory fakes (see testing/fakes.ts).
import { ACTOR, NS, committerSetup, contentChange, deleteChange } from '../testing/fakes';
import type { FileChange } from './model';

const move = (path: string, from: string, fromVersion: number, blocks: number[] = [1]): FileChange => ({
  ...contentChange(path, 0, blocks),
  moveFrom: { path: from, baseVersion: fromVersion },
});

async function withFiles(...paths: string[]) {
  const setup = committerSetup();
  await setup.committer.commit(
    NS,
    ACTOR,
    paths.map((path, index) => contentChange(path, 0, [(index % 20) + 1])),
  );
  setup.store.journal.length = 0;
  setup.store.events.length = 0;
  return setup;
}

describe('Committer: moves', () => {
  it('commits a move as the old path tombstone and the new path version in one journal entry', async () => {
    const { store, committer } = await withFiles('docs/a.txt');
    const result = await committer.commit(NS, ACTOR, [move('archive/a.txt', 'docs/a.txt', 1)]);

    expect(result.outcomes).toEqual([
      expect.objectContaining({
        kind: 'committed',
        path: 'archive/a.txt',
        entry: expect.objectContaining({ version: 1, movedFrom: 'docs/a.txt', deleted: false }),
      }),
    ]);
    expect(store.journal).toHaveLength(1);
    expect(store.journal[0]!.changes).toEqual([
      expect.objectContaining({ path: 'docs/a.txt', version: 2, deleted: true, movedTo: 'archive/a.txt' }),
      expect.objectContaining({ path: 'archive/a.txt', version: 1, deleted: false, movedFrom: 'docs/a.txt' }),
    ]);
    const current = await store.currentEntries(NS, ['docs/a.txt', 'archive/a.txt']);
    expect(current.get('docs/a.txt')).toMatchObject({ deleted: true, movedTo: 'archive/a.txt' });
    expect(current.get('archive/a.txt')?.content).toEqual(contentChange('x', 0, [1]).content);
  });

  it('tells followers of the old path and of the new path that the file moved', async () => {
    const { store, committer } = await withFiles('docs/a.txt');
    for (const [userId, path] of [
      ['old', 'docs'],
      ['new', 'archive'],
    ] as const) {
      await store.putFollow({
        namespaceId: NS,
        path,
        userId,
        email: `${userId}@example.com`,
        emailVerified: true,
      });
    }
    await committer.commit(NS, ACTOR, [move('archive/a.txt', 'docs/a.txt', 1)]);

    const [event] = store.events;
    expect(event!.changes).toEqual([
      { path: 'docs/a.txt', version: 2, deleted: true, size: 0, movedTo: 'archive/a.txt' },
      { path: 'archive/a.txt', version: 1, deleted: false, size: 10, movedFrom: 'docs/a.txt' },
    ]);
    expect(event!.recipients.map(({ userId, paths }) => [userId, paths])).toEqual([
      ['new', ['archive/a.txt']],
      ['old', ['docs/a.txt']],
    ]);
  });

  it('refuses a move whose source changed, was deleted or holds other content, changing nothing', async () => {
    const { store, committer } = await withFiles('a', 'b', 'c');
    await committer.commit(NS, ACTOR, [contentChange('a', 1, [5]), deleteChange('b', 1)]);
    const result = await committer.commit(NS, ACTOR, [
      move('a2', 'a', 1, [1]),
      move('b2', 'b', 1, [2]),
      move('c2', 'c', 1, [9]),
    ]);

    expect(result.outcomes.map((outcome) => outcome.kind)).toEqual(['conflict', 'conflict', 'conflict']);
    // The source's entry tells what happened to it.
    expect(result.outcomes.map((outcome) => outcome.kind === 'conflict' && outcome.current?.path)).toEqual([
      'a',
      'b',
      'c',
    ]);
    const current = await store.currentEntries(NS, ['a2', 'b2', 'c2', 'c']);
    expect([...current.keys()]).toEqual(['c']);
    expect(current.get('c')!.deleted).toBe(false);
  });

  it('refuses a move onto a live file and keeps both files', async () => {
    const { store, committer } = await withFiles('a', 'b');
    const result = await committer.commit(NS, ACTOR, [{ ...move('b', 'a', 1), baseVersion: 1 }]);

    expect(result.outcomes).toEqual([expect.objectContaining({ kind: 'conflict', path: 'b' })]);
    const current = await store.currentEntries(NS, ['a', 'b']);
    expect([...current.values()].map((entry) => [entry.path, entry.version, entry.deleted])).toEqual([
      ['a', 1, false],
      ['b', 1, false],
    ]);
  });

  it('moves onto a tombstone and does not check blocks again', async () => {
    const { store, storage, committer } = await withFiles('a', 'b');
    await committer.commit(NS, ACTOR, [deleteChange('b', 1)]);
    const lookups = storage.calls.lookup;
    const result = await committer.commit(NS, ACTOR, [{ ...move('b', 'a', 1), baseVersion: 2 }]);

    expect(result.outcomes).toEqual([expect.objectContaining({ kind: 'committed', path: 'b' })]);
    expect(storage.calls.lookup).toBe(lookups);
    expect((await store.currentEntries(NS, ['b'])).get('b')).toMatchObject({ version: 3, movedFrom: 'a' });
  });

  it('keeps both halves of a folder move in one transaction', async () => {
    const paths = Array.from({ length: 60 }, (_, index) => `docs/${index}`);
    const { store, committer } = await withFiles(...paths);
    const result = await committer.commit(
      NS,
      ACTOR,
      paths.map((path, index) => move(`moved/${index}`, path, 1, [(index % 20) + 1])),
    );

    expect(result.outcomes.every((outcome) => outcome.kind === 'committed')).toBe(true);
    for (const record of store.journal) {
      const gone = record.changes.filter((change) => change.movedTo).map((change) => change.movedTo);
      const arrived = record.changes.filter((change) => change.movedFrom).map((change) => change.path);
      expect(gone.sort()).toEqual(arrived.sort());
    }
    expect(store.journal.length).toBeGreaterThan(1);
    expect(store.journal.length).toBeLessThanOrEqual(3);
  });

  it('does not count a move against the mass-delete rule', async () => {
    const paths = Array.from({ length: 30 }, (_, index) => `docs/${index}`);
    const { committer } = await withFiles(...paths);
    const result = await committer.commit(
      NS,
      ACTOR,
      paths.map((path, index) => move(`moved/${index}`, path, 1, [(index % 20) + 1])),
    );
    expect(result.outcomes.every((outcome) => outcome.kind === 'committed')).toBe(true);
  });
});

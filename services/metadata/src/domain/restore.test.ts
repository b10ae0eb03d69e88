// Unit tests of the trash and restores (issue 8, section 5) with the in-memory fakes of the domain
// ports (testing/fakes.ts: the store applies transactions all or nothing, the block index holds
// blocks 1 to 20): no DynamoDB, no network.
import { domainErrorRejectedBy } from '@filesync/server-kit/testing';
import { ACTOR, NS, committerSetup, contentChange, deleteChange, hashOf } from '../testing/fakes';
import type { FileChange } from './model';
import { Restorer } from './restore';

const RETENTION_MS = 10_000;

function setup(retentionMs = RETENTION_MS) {
  let now = 5_000;
  const clock = { now: () => now };
  const { store, storage, committer } = committerSetup({ clock, retentionMs });
  const restorer = new Restorer(store, committer, retentionMs);
  const commit = async (...changes: FileChange[]) => {
    const { outcomes } = await committer.commit(NS, ACTOR, changes, { confirmMassDelete: true });
    for (const outcome of outcomes) expect(outcome.kind).toBe('committed');
  };
  const current = (path: string) => store.files.get(`${NS}\u0000${path}`);
  return { store, storage, restorer, commit, current, advance: (ms: number) => (now += ms) };
}

/** Files `docs/f0` .. `docs/f{n-1}` (file i holds block i + 1) and `other.txt`, then docs deleted. */
async function deletedFolder(n: number) {
  const context = setup();
  const paths = Array.from({ length: n }, (_, i) => `docs/f${i}`);
  await context.commit(
    ...paths.map((path, i) => contentChange(path, 0, [i + 1])),
    contentChange('other.txt', 0, [20]),
  );
  await context.commit(...paths.map((path) => deleteChange(path, 1)));
  return { ...context, paths };
}

describe('the trash', () => {
  it('lists deleted files at or below a path in path order, with who, when, size and expiry', async () => {
    const { restorer, advance, commit } = await deletedFolder(3);
    advance(1_000);
    await commit(deleteChange('other.txt', 1));
    const page = await restorer.listTrash(NS, 'docs', undefined, 10);
    expect(page).toEqual({
      hasMore: false,
      entries: ['docs/f0', 'docs/f1', 'docs/f2'].map((path) => ({
        path,
        version: 2,
        deletedAtMs: 5_000,
        deviceId: ACTOR.deviceId,
        expiresAtMs: 5_000 + RETENTION_MS,
        size: 10,
      })),
    });
    expect((await restorer.listTrash(NS, '', undefined, 10)).entries.map((entry) => entry.path)).toEqual([
      'docs/f0',
      'docs/f1',
      'docs/f2',
      'other.txt',
    ]);
    expect((await restorer.listTrash(NS, 'docs/f1', undefined, 10)).entries).toHaveLength(1);
  });

  it('reads only the trash, never the live files', async () => {
    const { restorer, store, commit } = await deletedFolder(2);
    await commit(...Array.from({ length: 50 }, (_, i) => contentChange(`live/${i}`, 0, [1])));
    store.trashReads.entries = 0;
    await restorer.listTrash(NS, '', undefined, 10);
    expect(store.trashReads.entries).toBe(2);
  });

  it('pages after a path', async () => {
    const { restorer } = await deletedFolder(5);
    const first = await restorer.listTrash(NS, 'docs', undefined, 2);
    expect(first.hasMore).toBe(true);
    const second = await restorer.listTrash(NS, 'docs', first.entries.at(-1)!.path, 2);
    const third = await restorer.listTrash(NS, 'docs', second.entries.at(-1)!.path, 2);
    expect([...first.entries, ...second.entries, ...third.entries].map((entry) => entry.path)).toEqual([
      'docs/f0',
      'docs/f1',
      'docs/f2',
      'docs/f3',
      'docs/f4',
    ]);
    expect(third.hasMore).toBe(false);
  });

  it('leaves out files whose last version is past the retention period, and files made live again', async () => {
    const { restorer, advance, commit } = await deletedFolder(2);
    await commit(contentChange('docs/f0', 2, [7]));
    expect((await restorer.listTrash(NS, '', undefined, 10)).entries.map((entry) => entry.path)).toEqual([
      'docs/f1',
    ]);
    advance(RETENTION_MS);
    expect((await restorer.listTrash(NS, '', undefined, 10)).entries).toEqual([]);
  });
});

describe('restoring deleted files', () => {
  it('brings a deleted folder back in one call: each file a new version with its last content', async () => {
    const { restorer, store, current, paths } = await deletedFolder(4);
    const journalBefore = store.journal.length;
    const result = await restorer.restoreFiles(NS, ACTOR, ['docs'], { maxFiles: 500 });
    expect(result.next).toBeUndefined();
    expect(result.outcomes.map((outcome) => [outcome.path, outcome.kind, outcome.fromVersion])).toEqual(
      paths.map((path) => [path, 'restored', 1]),
    );
    paths.forEach((path, i) => {
      expect(current(path)).toMatchObject({ version: 3, deleted: false, deviceId: ACTOR.deviceId });
      expect(current(path)!.content!.blockHashes).toEqual([hashOf(i + 1)]);
    });
    // An ordinary commit: journal entry and change event, so other devices download it.
    expect(store.journal.length).toBe(journalBefore + 1);
    expect(store.events.at(-1)!.changes.map((change) => change.path)).toEqual(paths);
    expect(result.cursor).toBe(store.journal.at(-1)!.seq);
    expect((await restorer.listTrash(NS, '', undefined, 10)).entries).toEqual([]);
  });

  it('restores a deleted file named by its path, and reports a path with nothing deleted', async () => {
    const { restorer, current } = await deletedFolder(2);
    const result = await restorer.restoreFiles(NS, ACTOR, ['docs/f1', 'nothing/here'], { maxFiles: 500 });
    expect(result.outcomes).toMatchObject([
      { kind: 'restored', path: 'docs/f1', fromVersion: 1 },
      { kind: 'refused', path: 'nothing/here', reason: 'not-in-trash' },
    ]);
    expect(current('docs/f0')!.deleted).toBe(true);
  });

  it('goes on from a page token when a folder holds more than one call restores', async () => {
    const { restorer, paths, current } = await deletedFolder(7);
    const restored: string[] = [];
    let resume: { index: number; afterPath: string } | undefined;
    let calls = 0;
    do {
      const result = await restorer.restoreFiles(NS, ACTOR, ['docs'], { maxFiles: 3, resume });
      restored.push(...result.outcomes.map((outcome) => outcome.path));
      resume = result.next;
      calls += 1;
    } while (resume);
    expect(restored).toEqual(paths);
    expect(calls).toBe(3);
    for (const path of paths) expect(current(path)!.version).toBe(3);
  });

  it('never overwrites a path that is live again: refused on its own, the rest restored', async () => {
    const { restorer, commit, current } = await deletedFolder(2);
    await commit(contentChange('docs/f0', 2, [9]));
    const result = await restorer.restoreFiles(NS, ACTOR, ['docs/f0', 'docs/f1'], { maxFiles: 500 });
    expect(result.outcomes).toMatchObject([
      { kind: 'refused', path: 'docs/f0', reason: 'live' },
      { kind: 'restored', path: 'docs/f1' },
    ]);
    expect(result.outcomes[0]).toMatchObject({ message: expect.stringContaining('was not overwritten') });
    expect(current('docs/f0')).toMatchObject({ version: 3, content: { blockHashes: [hashOf(9)] } });
  });

  it('refuses a file made live again between the listing and the commit (optimistic concurrency)', async () => {
    const { restorer, store, current } = await deletedFolder(2);
    store.beforeCommit = () =>
      store.put({ ...current('docs/f0')!, version: 3, deleted: false, content: current('docs/f1')!.content });
    const result = await restorer.restoreFiles(NS, ACTOR, ['docs'], { maxFiles: 500 });
    expect(result.outcomes).toMatchObject([
      { kind: 'refused', path: 'docs/f0', reason: 'live' },
      { kind: 'restored', path: 'docs/f1' },
    ]);
    expect(current('docs/f0')!.version).toBe(3);
  });

  it('refuses a file past the retention period, and one whose blocks are no longer stored', async () => {
    const { restorer, storage, advance, current } = await deletedFolder(2);
    storage.blocks.delete(`${NS}/${hashOf(2)}`);
    const missing = await restorer.restoreFiles(NS, ACTOR, ['docs'], { maxFiles: 500 });
    expect(missing.outcomes).toMatchObject([
      { kind: 'restored', path: 'docs/f0' },
      { kind: 'refused', path: 'docs/f1', reason: 'expired', message: expect.stringContaining('expired') },
    ]);
    advance(RETENTION_MS);
    const expired = await restorer.restoreFiles(NS, ACTOR, ['docs/f1'], { maxFiles: 500 });
    expect(expired.outcomes).toMatchObject([
      { kind: 'refused', path: 'docs/f1', reason: 'expired', fromVersion: 1 },
    ]);
    expect(current('docs/f1')!.deleted).toBe(true);
  });

  it('refuses a file whose path became a folder (the tree rule)', async () => {
    const { restorer, commit } = await deletedFolder(1);
    await commit(contentChange('docs/f0/inner.txt', 0, [3]));
    const result = await restorer.restoreFiles(NS, ACTOR, ['docs/f0'], { maxFiles: 500 });
    expect(result.outcomes).toMatchObject([{ kind: 'refused', path: 'docs/f0', reason: 'path-clash' }]);
  });

  it('writes nothing for a caller that gave up', async () => {
    const { restorer, store } = await deletedFolder(2);
    const transactions = store.transactions.length;
    const controller = new AbortController();
    controller.abort(new Error('deadline exceeded'));
    await expect(
      restorer.restoreFiles(NS, ACTOR, ['docs'], { maxFiles: 500, signal: controller.signal }),
    ).rejects.toThrow('deadline exceeded');
    expect(store.transactions).toHaveLength(transactions);
  });
});

describe('restoring an older version', () => {
  async function threeVersions() {
    const context = setup();
    await context.commit(contentChange('a.txt', 0, [1]));
    await context.commit(contentChange('a.txt', 1, [2]));
    await context.commit(contentChange('a.txt', 2, [3]));
    return context;
  }

  it('commits version 1 of a live file as version 4, keeping version 3 in the history', async () => {
    const { restorer, store, current } = await threeVersions();
    const { entry } = await restorer.restoreVersion(NS, ACTOR, 'a.txt', 1, 0);
    expect(entry).toMatchObject({ version: 4, deleted: false, content: { blockHashes: [hashOf(1)] } });
    expect(current('a.txt')!.version).toBe(4);
    expect((await store.listVersions(NS, 'a.txt')).map((version) => version.version)).toEqual([4, 3, 2, 1]);
  });

  it('restores an older version of a deleted file', async () => {
    const { restorer, commit } = await threeVersions();
    await commit(deleteChange('a.txt', 3));
    const { entry } = await restorer.restoreVersion(NS, ACTOR, 'a.txt', 2, 4);
    expect(entry).toMatchObject({ version: 5, content: { blockHashes: [hashOf(2)] } });
  });

  it('refuses an expired version with FAILED_PRECONDITION saying so', async () => {
    const { restorer, advance } = await threeVersions();
    advance(RETENTION_MS);
    const error = await domainErrorRejectedBy(restorer.restoreVersion(NS, ACTOR, 'a.txt', 1, 0));
    expect(error.kind).toBe('failed-precondition');
    expect(error.message).toContain('version 1 of a.txt has expired');
    // What to do, as the CLI shows the message alone (D8).
    expect(error.message).toContain('`filesync versions a.txt` lists the ones still kept');
    expect(error.details).toEqual({ restore: 'expired' });
  });

  it('refuses a version whose blocks are no longer stored as expired', async () => {
    const { restorer, storage } = await threeVersions();
    storage.blocks.delete(`${NS}/${hashOf(1)}`);
    const error = await domainErrorRejectedBy(restorer.restoreVersion(NS, ACTOR, 'a.txt', 1, 0));
    expect(error).toMatchObject({ kind: 'failed-precondition', details: { restore: 'expired' } });
  });

  it('answers NOT_FOUND for a missing path or version, FAILED_PRECONDITION for the current one or a stale base', async () => {
    const { restorer } = await threeVersions();
    const missing = await domainErrorRejectedBy(restorer.restoreVersion(NS, ACTOR, 'b.txt', 1, 0));
    expect(missing.kind).toBe('not-found');
    expect(missing.message).toMatch(
      /^b\.txt does not exist in this namespace: check the path \(`filesync trash`/,
    );
    const noVersion = await domainErrorRejectedBy(restorer.restoreVersion(NS, ACTOR, 'a.txt', 9, 0));
    expect(noVersion.kind).toBe('not-found');
    expect(noVersion.message).toContain('(`filesync versions a.txt` lists them)');
    const currentOne = await domainErrorRejectedBy(restorer.restoreVersion(NS, ACTOR, 'a.txt', 3, 0));
    expect(currentOne).toMatchObject({ kind: 'failed-precondition', details: { 'current-version': '3' } });
    const stale = await domainErrorRejectedBy(restorer.restoreVersion(NS, ACTOR, 'a.txt', 1, 2));
    expect(stale).toMatchObject({ kind: 'failed-precondition', details: { 'current-version': '3' } });
  });

  it('refuses restoring a deletion', async () => {
    const { restorer, commit } = await threeVersions();
    await commit(deleteChange('a.txt', 3));
    await commit(contentChange('a.txt', 4, [5]));
    const error = await domainErrorRejectedBy(restorer.restoreVersion(NS, ACTOR, 'a.txt', 4, 0));
    expect(error).toMatchObject({
      kind: 'failed-precondition',
      message: expect.stringContaining('deletion'),
    });
  });
});

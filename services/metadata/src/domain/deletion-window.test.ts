// Unit tests of the server's mass-delete guard (issue 6, kind 2), with the in-memory store.
import { MASS_DELETE_RULE } from '@filesync/sync-core';
import { currentWindow, needsConfirmation, nextHead } from './deletion-window';
import type { Committer } from './commit';
import {
  ACTOR,
  NS,
  committerSetup,
  contentChange,
  deleteChange,
  hashOf,
  type InMemoryStore,
} from '../testing/fakes';

/** `perTransaction` files fit one transaction whatever their kind (a deletion costs 3 items). */
function setup(perTransaction = 32) {
  const maxItemsPerTransaction = 3 + 3 * perTransaction;
  let now = 1_000_000;
  const { store, storage, committer } = committerSetup({ clock: { now: () => now }, maxItemsPerTransaction });
  // Moves need contents of their own: blocks 21-40 beside the setup's 1-20.
  for (let block = 21; block <= 40; block += 1) storage.add(NS, hashOf(block));
  return { store, committer, advance: (ms: number) => (now += ms) };
}

const files = (count: number, prefix = 'f') =>
  Array.from({ length: count }, (_, index) => `${prefix}${String(index).padStart(3, '0')}`);
const kinds = (outcomes: readonly { kind: string }[]) => [
  ...new Set(outcomes.map((outcome) => outcome.kind)),
];

describe('kind 2: the server refuses a mass deletion without the user’s confirmation', () => {
  it('counts deletions over the window against the live files at its start', () => {
    const head = { seq: 3, live: 20, window: undefined };
    expect(currentWindow(head, 10)).toEqual({ startMs: 10, liveAtStart: 20, deleted: 0, created: 0 });
    const after = nextHead(head, 4, 10, { created: 0, deleted: 5, confirmed: false });
    expect(after).toEqual({
      seq: 4,
      live: 15,
      window: { startMs: 10, liveAtStart: 20, deleted: 5, created: 0 },
    });
    expect(needsConfirmation(after, 20, 5)).toBe(false);
    expect(needsConfirmation(after, 20, 6)).toBe(true);
    // Once the window is over, a new one starts from the files live then.
    expect(currentWindow(after, 10 + MASS_DELETE_RULE.windowMs)).toEqual({
      startMs: 10 + MASS_DELETE_RULE.windowMs,
      liveAtStart: 15,
      deleted: 0,
      created: 0,
    });
    // Creating files opens no window: they are what the next window protects.
    expect(nextHead(head, 4, 10, { created: 7, deleted: 0, confirmed: false })).toEqual({
      seq: 4,
      live: 27,
      window: undefined,
    });
  });

  it('files added after the window opened count as live: deleting 1 of 31 is no mass deletion', async () => {
    const { committer } = setup();
    await committer.commit(
      NS,
      ACTOR,
      files(3).map((path, index) => contentChange(path, 0, [index + 1])),
    );
    // The reviewer's sequence: one deletion opens the window, 30 files arrive, then two more go.
    expect(kinds((await committer.commit(NS, ACTOR, [deleteChange('f000', 1)])).outcomes)).toEqual([
      'committed',
    ]);
    await committer.commit(
      NS,
      ACTOR,
      files(30, 'n').map((path, index) => contentChange(path, 0, [index + 4])),
    );
    expect(kinds((await committer.commit(NS, ACTOR, [deleteChange('f001', 1)])).outcomes)).toEqual([
      'committed',
    ]);
    expect(kinds((await committer.commit(NS, ACTOR, [deleteChange('n005', 1)])).outcomes)).toEqual([
      'committed',
    ]);
  });

  it('a request replacing every file at once still asks: its own creations do not count', async () => {
    const { committer } = setup();
    await committer.commit(
      NS,
      ACTOR,
      files(3).map((path, index) => contentChange(path, 0, [index + 1])),
    );
    const { outcomes } = await committer.commit(NS, ACTOR, [
      ...files(3).map((path) => deleteChange(path, 1)),
      ...files(20, 'other').map((path, index) => contentChange(path, 0, [index + 10])),
    ]);
    expect(outcomes.filter((outcome) => outcome.path.startsWith('f')).map((o) => o.kind)).toEqual([
      'rejected',
      'rejected',
      'rejected',
    ]);
  });

  it('an old client cannot delete 20 of 20 files in 4 batches of 5', async () => {
    const { store, committer } = setup();
    await committer.commit(
      NS,
      ACTOR,
      files(20).map((path) => contentChange(path, 0)),
    );
    const batches = [0, 1, 2, 3].map((batch) => files(20).slice(batch * 5, batch * 5 + 5));
    const answers = [];
    for (const batch of batches) {
      const { outcomes } = await committer.commit(
        NS,
        ACTOR,
        batch.map((path) => deleteChange(path, 1)),
      );
      answers.push(kinds(outcomes));
    }
    expect(answers).toEqual([['committed'], ['committed'], ['rejected'], ['rejected']]);
    const live = [...store.files.values()].filter((entry) => !entry.deleted);
    expect(live).toHaveLength(10);
  });

  it('rejects every deletion of the request per path, while its uploads still commit', async () => {
    const { committer } = setup();
    await committer.commit(
      NS,
      ACTOR,
      files(3).map((path) => contentChange(path, 0)),
    );
    const { outcomes } = await committer.commit(NS, ACTOR, [
      ...files(3).map((path) => deleteChange(path, 1)),
      contentChange('new.txt', 0, [2]),
    ]);
    expect(outcomes.map((outcome) => [outcome.path, outcome.kind])).toEqual([
      ['f000', 'rejected'],
      ['f001', 'rejected'],
      ['f002', 'rejected'],
      ['new.txt', 'committed'],
    ]);
    expect(outcomes[0]).toMatchObject({ reason: 'mass-delete', message: expect.stringContaining('confirm') });
  });

  it('refuses a request spanning several transactions as a whole, never its first half', async () => {
    const { store, committer } = setup(8);
    await committer.commit(
      NS,
      ACTOR,
      files(40).map((path) => contentChange(path, 0)),
    );
    const { outcomes } = await committer.commit(
      NS,
      ACTOR,
      files(40).map((path) => deleteChange(path, 1)),
    );
    expect(kinds(outcomes)).toEqual(['rejected']);
    expect([...store.files.values()].filter((entry) => entry.deleted)).toHaveLength(0);
  });

  it('deletes with confirm_mass_delete, then measures later deletions from what is left', async () => {
    const { store, committer } = setup();
    await committer.commit(
      NS,
      ACTOR,
      files(40).map((path) => contentChange(path, 0)),
    );
    const confirmed = await committer.commit(
      NS,
      ACTOR,
      files(30).map((path) => deleteChange(path, 1)),
      { confirmMassDelete: true },
    );
    expect(kinds(confirmed.outcomes)).toEqual(['committed']);
    expect(await store.readHeadState(NS)).toMatchObject({
      live: 10,
      window: { liveAtStart: 10, deleted: 0 },
    });
    // One of the ten left is an ordinary deletion; the nine others, all that is left, need confirming again.
    expect(kinds((await committer.commit(NS, ACTOR, [deleteChange('f030', 1)])).outcomes)).toEqual([
      'committed',
    ]);
    const rest = files(40).slice(31);
    const refused = await committer.commit(
      NS,
      ACTOR,
      rest.map((path) => deleteChange(path, 1)),
    );
    expect(kinds(refused.outcomes)).toEqual(['rejected']);
  });

  it('allows the same deletions again once the window has passed', async () => {
    const { committer, advance } = setup();
    await committer.commit(
      NS,
      ACTOR,
      files(30).map((path) => contentChange(path, 0)),
    );
    const first = await committer.commit(
      NS,
      ACTOR,
      files(15).map((path) => deleteChange(path, 1)),
    );
    expect(kinds(first.outcomes)).toEqual(['committed']);
    const tooSoon = await committer.commit(NS, ACTOR, [deleteChange('f020', 1)]);
    expect(kinds(tooSoon.outcomes)).toEqual(['rejected']);
    advance(MASS_DELETE_RULE.windowMs);
    const later = await committer.commit(NS, ACTOR, [deleteChange('f020', 1)]);
    expect(kinds(later.outcomes)).toEqual(['committed']);
  });
});

/** Live files `d/f000`, `d/f001`, ... each with content of its own (block index + 1). */
async function liveFiles(committer: Committer, count: number) {
  const paths = files(count, 'd/f');
  await committer.commit(
    NS,
    ACTOR,
    paths.map((path, index) => contentChange(path, 0, [index + 1])),
  );
  return paths;
}
const results = (outcomes: readonly { path: string; kind: string }[]) =>
  outcomes.map((outcome) => [outcome.path, outcome.kind]);
const livePaths = (store: InMemoryStore) =>
  [...store.files.values()].filter((entry) => !entry.deleted).map((entry) => entry.path);

describe('kind 2: a move is not a deletion for the server’s mass-delete rule', () => {
  it('renaming the only file of a namespace commits both halves and leaves the live count alone', async () => {
    const { store, committer } = setup();
    await liveFiles(committer, 1);
    const { outcomes } = await committer.commit(NS, ACTOR, [
      deleteChange('d/f000', 1),
      contentChange('d/renamed', 0, [1]),
    ]);
    expect(results(outcomes)).toEqual([
      ['d/f000', 'committed'],
      ['d/renamed', 'committed'],
    ]);
    expect(livePaths(store)).toEqual(['d/renamed']);
    const head = await store.readHeadState(NS);
    expect(head.live).toBe(1);
    expect(head.window?.deleted ?? 0).toBe(0);
    // The move used none of the window: deleting the file now is still the user's to confirm.
    expect(kinds((await committer.commit(NS, ACTOR, [deleteChange('d/renamed', 1)])).outcomes)).toEqual([
      'rejected',
    ]);
  });

  it('moving all 3 files into sub/ commits, across several transactions too', async () => {
    for (const perTransaction of [32, 2]) {
      const { store, committer } = setup(perTransaction);
      const paths = await liveFiles(committer, 3);
      const { outcomes } = await committer.commit(NS, ACTOR, [
        ...paths.map((path) => deleteChange(path, 1)),
        // In another order than the deletions: a move is found by content, not by position.
        contentChange('sub/c', 0, [3]),
        contentChange('sub/a', 0, [1]),
        contentChange('sub/b', 0, [2]),
      ]);
      expect(kinds(outcomes)).toEqual(['committed']);
      expect(livePaths(store).sort()).toEqual(['sub/a', 'sub/b', 'sub/c']);
      expect(await store.readHeadState(NS)).toMatchObject({ live: 3 });
      expect((await store.readHeadState(NS)).window?.deleted ?? 0).toBe(0);
    }
  });

  it('replacing the only file `d/f000` by `d/f000/x` of the same content converges in one request', async () => {
    const { store, committer } = setup();
    await liveFiles(committer, 1);
    const { outcomes } = await committer.commit(NS, ACTOR, [
      deleteChange('d/f000', 1),
      contentChange('d/f000/x', 0, [1]),
    ]);
    expect(results(outcomes)).toEqual([
      ['d/f000', 'committed'],
      ['d/f000/x', 'committed'],
    ]);
    expect(livePaths(store)).toEqual(['d/f000/x']);
  });

  it('each creation excuses one deletion: deleting two copies and keeping one counts one', async () => {
    const { store, committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('a', 0, [1]), contentChange('b', 0, [1])]);
    const { outcomes } = await committer.commit(NS, ACTOR, [
      deleteChange('a', 1),
      deleteChange('b', 1),
      contentChange('c', 0, [1]),
    ]);
    expect(kinds(outcomes)).toEqual(['committed']);
    expect(await store.readHeadState(NS)).toMatchObject({ live: 1, window: { liveAtStart: 2, deleted: 1 } });
  });

  it('refuses a refused move’s creation with its deletion; other creations still commit', async () => {
    const { store, committer } = setup();
    const paths = await liveFiles(committer, 12);
    const { outcomes } = await committer.commit(NS, ACTOR, [
      ...paths.map((path) => deleteChange(path, 1)),
      contentChange('moved/f000', 0, [1]),
      contentChange('new.txt', 0, [40]),
    ]);
    // 11 of 12 files deleted outright (the twelfth moved) is still a mass deletion.
    expect(results(outcomes)).toEqual([
      ...paths.map((path) => [path, 'rejected']),
      ['moved/f000', 'rejected'],
      ['new.txt', 'committed'],
    ]);
    expect(outcomes[12]).toMatchObject({
      reason: 'mass-delete',
      message: expect.stringContaining('refused move'),
    });
    expect(livePaths(store).sort()).toEqual([...paths, 'new.txt']);
    expect(await store.readHeadState(NS)).toMatchObject({ live: 13 });
  });

  it('a move whose creation is refused for a clash counts as a deletion again', async () => {
    const { store, committer } = setup();
    await committer.commit(NS, ACTOR, [contentChange('only', 0, [1]), contentChange('x', 0, [2])]);
    // `x/y` cannot be created (x is a file), so deleting `only` loses its content: 1 of 2 counted.
    const { outcomes } = await committer.commit(NS, ACTOR, [
      deleteChange('only', 1),
      contentChange('x/y', 0, [1]),
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['committed', 'rejected']);
    expect(await store.readHeadState(NS)).toMatchObject({ live: 1, window: { liveAtStart: 2, deleted: 1 } });
  });
});

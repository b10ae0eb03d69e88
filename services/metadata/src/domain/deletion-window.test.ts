// Unit tests of the server's mass-delete guard (issue 6, kind 2), with the in-memory store.
import { MASS_DELETE_RULE } from '@filesync/sync-core';
import { currentWindow, needsConfirmation, nextHead } from './deletion-window';
import { ACTOR, NS, committerSetup, contentChange, deleteChange } from '../testing/fakes';

function setup(maxFilesPerTransaction = 32) {
  let now = 1_000_000;
  const { store, committer } = committerSetup({ clock: { now: () => now }, maxFilesPerTransaction });
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
    expect(currentWindow(head, 10)).toEqual({ startMs: 10, liveAtStart: 20, deleted: 0 });
    const after = nextHead(head, 4, 10, { created: 0, deleted: 5, confirmed: false });
    expect(after).toEqual({ seq: 4, live: 15, window: { startMs: 10, liveAtStart: 20, deleted: 5 } });
    expect(needsConfirmation(after, 20, 5)).toBe(false);
    expect(needsConfirmation(after, 20, 6)).toBe(true);
    // Once the window is over, a new one starts from the files live then.
    expect(currentWindow(after, 10 + MASS_DELETE_RULE.windowMs)).toEqual({
      startMs: 10 + MASS_DELETE_RULE.windowMs,
      liveAtStart: 15,
      deleted: 0,
    });
    // Creating files opens no window: they are what the next window protects.
    expect(nextHead(head, 4, 10, { created: 7, deleted: 0, confirmed: false })).toEqual({
      seq: 4,
      live: 27,
      window: undefined,
    });
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
      contentChange('new.txt', 0),
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

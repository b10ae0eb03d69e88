// Unit tests: pure planning functions, no ports involved.
import { buildJournal, buildWrites, chunkChanges, planChanges } from './commit-plan';
import { buildChangeEvent } from './change-event';
import { ACTOR, NS, contentChange, deleteChange, entry } from '../testing/fakes';

describe('planChanges', () => {
  const current = new Map([
    ['a', entry('a', 3)],
    ['gone', entry('gone', 5, true)],
  ]);

  it('accepts a new path based on 0 and an edit based on the current version', () => {
    const { accepted, rejected } = planChanges([contentChange('new', 0), contentChange('a', 3)], current);
    expect(accepted.map((change) => change.path)).toEqual(['new', 'a']);
    expect(rejected).toEqual([]);
  });

  it('reports a stale base as a conflict carrying the current entry', () => {
    const { accepted, rejected } = planChanges([contentChange('a', 2), contentChange('a2', 0)], current);
    expect(accepted.map((change) => change.path)).toEqual(['a2']);
    expect(rejected).toEqual([{ kind: 'conflict', path: 'a', current: current.get('a') }]);
  });

  it('treats base 0 on an existing path as a conflict, not an overwrite', () => {
    const { rejected } = planChanges([contentChange('a', 0)], current);
    expect(rejected).toEqual([{ kind: 'conflict', path: 'a', current: current.get('a') }]);
  });

  it('lets new content based on a tombstone win over the delete', () => {
    const { accepted } = planChanges([contentChange('gone', 5)], current);
    expect(accepted).toHaveLength(1);
  });

  it('accepts deleting the current version', () => {
    expect(planChanges([deleteChange('a', 3)], current).accepted).toHaveLength(1);
  });

  it('refuses deleting an absent or already deleted path', () => {
    const { accepted, rejected } = planChanges([deleteChange('never', 0), deleteChange('gone', 5)], current);
    expect(accepted).toEqual([]);
    expect(rejected).toEqual([
      { kind: 'conflict', path: 'never', current: undefined },
      { kind: 'conflict', path: 'gone', current: current.get('gone') },
    ]);
  });
});

describe('chunkChanges', () => {
  it('splits into transactions of at most maxFiles, keeping order', () => {
    const changes = Array.from({ length: 70 }, (_, index) => contentChange(`f${index}`, 0));
    const chunks = chunkChanges(changes, 32);
    expect(chunks.map((chunk) => chunk.length)).toEqual([32, 32, 6]);
    expect(chunks.flat()).toEqual(changes);
  });

  it('also splits by estimated bytes, and gives an oversized change its own transaction', () => {
    const big = contentChange(
      'big',
      0,
      Array.from({ length: 200 }, (_, index) => index + 1),
    );
    const chunks = chunkChanges([contentChange('a', 0), big, contentChange('b', 0)], 32, 20_000);
    expect(chunks.map((chunk) => chunk.map((change) => change.path))).toEqual([['a'], ['big'], ['b']]);
  });

  it('returns no chunk for no changes', () => {
    expect(chunkChanges([], 32)).toEqual([]);
  });
});

describe('buildWrites and buildJournal', () => {
  it('moves each file to base + 1 at the transaction sequence, tombstones without content', () => {
    const writes = buildWrites(NS, [contentChange('a', 3), deleteChange('b', 1)], 7, 5_000, ACTOR);
    expect(
      writes.map(({ expectedVersion, entry: e }) => [e.path, expectedVersion, e.version, e.deleted]),
    ).toEqual([
      ['a', 3, 4, false],
      ['b', 1, 2, true],
    ]);
    expect(writes.every(({ entry: e }) => e.journalSeq === 7 && e.deviceId === 'device-1')).toBe(true);
    expect(writes[1]!.entry.content).toBeUndefined();

    const journal = buildJournal(NS, 7, 5_000, ACTOR, writes);
    expect(journal.changes).toEqual([
      {
        path: 'a',
        version: 4,
        deleted: false,
        size: 10,
        contentHash: writes[0]!.entry.content!.contentHash,
        modifiedAtMs: 1_000,
      },
      { path: 'b', version: 2, deleted: true, size: 0, contentHash: '', modifiedAtMs: 2_000 },
    ]);
  });
});

describe('kind 9: a batch of 4 KiB paths fits the journal item, the outbox item and the SQS message', () => {
  it('splits by path bytes so each transaction’s journal and event stay far below their limits', () => {
    const path = (index: number) => `${String(index).padStart(4, '0')}/${'é'.repeat(2_045)}`;
    const changes = Array.from({ length: 48 }, (_, index) => contentChange(path(index), 0));
    expect(Buffer.byteLength(changes[0]!.path, 'utf8')).toBe(4_095);
    const chunks = chunkChanges(changes, 32);
    expect(chunks.flat()).toEqual(changes);
    for (const chunk of chunks) {
      const writes = buildWrites(NS, chunk, 1, 9, ACTOR);
      const journal = buildJournal(NS, 1, 9, ACTOR, writes);
      // Two followers of the whole namespace: each recipient lists every path again.
      const follows = ['u1', 'u2'].map((userId) => ({
        namespaceId: NS,
        path: '',
        userId,
        email: `${userId}@x`,
      }));
      const event = buildChangeEvent(journal, follows);
      expect(Buffer.byteLength(JSON.stringify(journal), 'utf8')).toBeLessThan(100 * 1024);
      expect(Buffer.byteLength(JSON.stringify(event), 'utf8')).toBeLessThan(200 * 1024);
    }
  });
});

// Unit tests: pure planning functions, no ports involved.
import {
  buildJournal,
  buildWrites,
  chunkChanges,
  estimatedWriteBytes,
  planChanges,
  transactionItems,
} from './commit-plan';
import { buildChangeEvent } from './change-event';
import { JOURNAL_INLINE_BLOCKS } from './model';
import { ACTOR, NS, contentChange, deleteChange, entry, hashOf } from '../testing/fakes';

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

describe('transactionItems', () => {
  it('counts a file’s entry and the version it supersedes', () => {
    expect(transactionItems(contentChange('new', 0), undefined)).toBe(1);
    expect(transactionItems(contentChange('a', 3), entry('a', 3))).toBe(2);
    expect(transactionItems(deleteChange('a', 3), entry('a', 3))).toBe(2);
    expect(transactionItems(contentChange('gone', 5), entry('gone', 5, true))).toBe(2);
  });
});

describe('chunkChanges', () => {
  const FILE_ITEMS = 97; // 100 items, less the head, journal and outbox items

  it('fills transactions by items: 97 new files, 48 edits or deletions, keeping order', () => {
    const created = Array.from({ length: 200 }, (_, index) => contentChange(`f${index}`, 0));
    const chunks = chunkChanges(created, new Map(), FILE_ITEMS);
    expect(chunks.map((chunk) => chunk.length)).toEqual([97, 97, 6]);
    expect(chunks.flat()).toEqual(created);

    const current = new Map(Array.from({ length: 70 }, (_, index) => [`f${index}`, entry(`f${index}`, 1)]));
    const edits = [...current.keys()].map((path) => contentChange(path, 1, [2]));
    expect(chunkChanges(edits, current, FILE_ITEMS).map((chunk) => chunk.length)).toEqual([48, 22]);
    const deletions = [...current.keys()].slice(0, 40).map((path) => deleteChange(path, 1));
    expect(chunkChanges(deletions, current, FILE_ITEMS).map((chunk) => chunk.length)).toEqual([40]);
  });

  it('also splits by estimated bytes, and gives an oversized change its own transaction', () => {
    const big = contentChange(
      'big',
      0,
      Array.from({ length: 200 }, (_, index) => index + 1),
    );
    const chunks = chunkChanges([contentChange('a', 0), big, contentChange('b', 0)], new Map(), 97, 10_000);
    expect(chunks.map((chunk) => chunk.map((change) => change.path))).toEqual([['a'], ['big'], ['b']]);
  });

  it('counts the bytes of the superseded version too', () => {
    const long = {
      ...entry('a', 1),
      content: { contentHash: 'h', size: 1, blockHashes: Array(200).fill('x') },
    };
    const change = contentChange('a', 1);
    expect(estimatedWriteBytes(change, long)).toBeGreaterThan(estimatedWriteBytes(change) + 200 * 70);
  });

  it('returns no chunk for no changes', () => {
    expect(chunkChanges([], new Map(), 97)).toEqual([]);
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
        blockHashes: [hashOf(1)],
      },
      { path: 'b', version: 2, deleted: true, size: 0, contentHash: '', modifiedAtMs: 2_000 },
    ]);
  });

  it('carries block lists of up to JOURNAL_INLINE_BLOCKS hashes in the journal, longer ones only in the version', () => {
    const blocks = (count: number) => Array.from({ length: count }, (_, index) => index + 1);
    const writes = buildWrites(
      NS,
      [
        contentChange('short', 0, blocks(JOURNAL_INLINE_BLOCKS)),
        contentChange('long', 0, blocks(JOURNAL_INLINE_BLOCKS + 1)),
      ],
      7,
      5_000,
      ACTOR,
    );
    const [short, long] = buildJournal(NS, 7, 5_000, ACTOR, writes).changes;
    expect(short!.blockHashes).toEqual(blocks(JOURNAL_INLINE_BLOCKS).map(hashOf));
    expect(long!.blockHashes).toBeUndefined();
  });

  it('names the current entry each write supersedes, none for a new path', () => {
    const current = new Map([
      ['a', entry('a', 3)],
      ['b', entry('b', 1)],
    ]);
    const writes = buildWrites(
      NS,
      [contentChange('a', 3), deleteChange('b', 1), contentChange('c', 0)],
      7,
      5_000,
      ACTOR,
      current,
    );
    expect(writes.map(({ superseded, wasLive }) => [superseded, wasLive])).toEqual([
      [current.get('a'), true],
      [current.get('b'), true],
      [undefined, false],
    ]);
  });
});

describe('kind 9: a batch of 4 KiB paths fits the journal item, the outbox item and the SQS message', () => {
  it('splits by path bytes so each transaction’s journal and event stay far below their limits', () => {
    const path = (index: number) => `${String(index).padStart(4, '0')}/${'é'.repeat(2_045)}`;
    const changes = Array.from({ length: 48 }, (_, index) => contentChange(path(index), 0));
    expect(Buffer.byteLength(changes[0]!.path, 'utf8')).toBe(4_095);
    const chunks = chunkChanges(changes, new Map(), 97);
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

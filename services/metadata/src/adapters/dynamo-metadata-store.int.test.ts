// Integration tests: the metadata store against DynamoDB Local (started here, in memory), driven
// by the real Committer and MetadataService; only block storage is an in-memory fake
// (testing/fakes.ts committerSetup: blocks 1 to 20 exist).
import {
  BatchWriteCommand,
  PutCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { LIMITS } from '@filesync/resources';
import { comparePaths } from '@filesync/sync-core';
import { MetadataService } from '../domain/metadata-service';
import type { ListFilesOptions } from '../domain/ports';
import { ACTOR, NS, committerSetup, contentChange, deleteChange, hashOf } from '../testing/fakes';
import { startDynamoDbLocal, type LocalDynamo } from '../testing/dynamo-local';
import { DynamoMetadataStore, type MetadataTables } from './dynamo-metadata-store';

const DAY = 24 * 60 * 60 * 1000;
let dynamo: LocalDynamo;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
});
afterAll(() => dynamo?.stop());

async function setup(retentionMs = 30 * DAY) {
  const tables = await dynamo.createTables(`t${++tableCount}`);
  /** Items of each TransactWriteItems call, in order. */
  const transactions: number[] = [];
  const client = {
    send: (command: any) => {
      if (command instanceof TransactWriteCommand) transactions.push(command.input.TransactItems!.length);
      return dynamo.documents.send(command);
    },
  } as unknown as DynamoDBDocumentClient;
  let now = 1_800_000_000_000;
  const clock = { now: () => now };
  const store = new DynamoMetadataStore(client, tables, { now: clock.now });
  const { committer, blocks } = committerSetup({ store, clock, retentionMs });
  const service = new MetadataService(store, committer, blocks, retentionMs, { settings: { clock } });
  return {
    tables,
    store,
    committer,
    service,
    transactions,
    advance: (ms: number) => (now += ms),
    items: () => allItems(tables),
  };
}

/** Every item of the test namespace in the metadata table. */
const allItems = (tables: MetadataTables) => dynamo.namespaceItems(tables.metadata, NS);

const ofKind = (items: Record<string, any>[], prefix: string) =>
  items.filter((item) => String(item.sk).startsWith(prefix));

/**
 * The blocks the garbage collector must keep, as the brief defines them: those of every live
 * FILE# item and of every VER# item not expired at `nowMs`.
 */
function referencedBlocks(items: Record<string, any>[], nowMs: number): string[] {
  const kept = items.filter(
    (item) =>
      (String(item.sk).startsWith('FILE#') && item.deleted !== true) ||
      (String(item.sk).startsWith('VER#') &&
        !(typeof item.expiresAt === 'number' && item.expiresAt * 1000 <= nowMs)),
  );
  return [...new Set(kept.flatMap((item) => (item.blockHashes ?? []) as string[]))].sort();
}

describe('commit transactions filled by items (DynamoDB Local)', () => {
  it('commits 97 new files in one transaction of 100 items, 200 in three; one journal entry each', async () => {
    const { committer, transactions, items } = await setup();
    const first = await committer.commit(
      NS,
      ACTOR,
      Array.from({ length: 97 }, (_, index) => contentChange(`a/${index}`, 0)),
    );
    expect(transactions).toEqual([100]);
    expect(first.cursor).toBe(1);

    const second = await committer.commit(
      NS,
      ACTOR,
      Array.from({ length: 200 }, (_, index) => contentChange(`b/${index}`, 0)),
    );
    // 32 files a transaction in issue 6 (3 items each), 48 with the live index (2 each): 7 and 5.
    expect(transactions).toEqual([100, 100, 100, 9]);
    expect(second.outcomes.every((outcome) => outcome.kind === 'committed')).toBe(true);
    // The cursor still moves one step per transaction, and each step has one journal entry.
    expect(second.cursor).toBe(4);
    const stored = await items();
    expect(ofKind(stored, 'JOURNAL#').map((item) => [item.seq, item.changes.length])).toEqual([
      [1, 97],
      [2, 97],
      [3, 97],
      [4, 6],
    ]);
    expect(ofKind(stored, 'HEAD')[0]).toMatchObject({ seq: 4, live: 297, folderMarkers: true });
    // A new file is its FILE# item alone: no version item, no live-index item.
    expect(ofKind(stored, 'FILE#')).toHaveLength(297);
    expect(ofKind(stored, 'LIVE#')).toHaveLength(0);
    expect(ofKind(stored, 'VER#')).toHaveLength(0);
  });

  it('puts 48 edits in one transaction, and 48 deletions', async () => {
    const { committer, transactions } = await setup();
    const paths = Array.from({ length: 48 }, (_, index) => `f/${index}`);
    await committer.commit(
      NS,
      ACTOR,
      paths.map((path) => contentChange(path, 0)),
    );
    await committer.commit(
      NS,
      ACTOR,
      paths.map((path) => contentChange(path, 1, [2])),
    );
    await committer.commit(
      NS,
      ACTOR,
      paths.map((path) => deleteChange(path, 2)),
      { confirmMassDelete: true },
    );
    expect(transactions).toEqual([51, 99, 99]);
  });
});

describe('ListFiles in bounded pages (DynamoDB Local)', () => {
  it('lists past a Query page in path order, and resumes after any path, a long one included', async () => {
    const { committer, store } = await setup();
    // Long paths share their first ORDER_PREFIX_BYTES: their keys end in a digest, out of path order.
    const long = (tail: string) => `l/${'x'.repeat(1000)}/${tail}`;
    const paths = [
      ...Array.from({ length: LIMITS.listFilesQueryItems + 7 }, (_, i) => `p/${String(i).padStart(4, '0')}`),
      long('a'),
      long('b'),
      long('c'),
    ];
    await committer.commit(
      NS,
      ACTOR,
      paths.map((path) => contentChange(path, 0)),
    );
    const sorted = [...paths].sort(comparePaths);
    const list = async (options: ListFilesOptions) => {
      const listed: string[] = [];
      for await (const page of store.listFiles(NS, options)) listed.push(...page.map((entry) => entry.path));
      return listed;
    };
    expect(await list({})).toEqual(sorted);
    for (const after of ['p/0', 'p/0499', long('b'), 'q']) {
      expect(await list({ startAfter: after })).toEqual(
        sorted.filter((path) => comparePaths(path, after) > 0),
      );
    }
    expect(await list({ prefix: 'p', startAfter: 'p/0500' })).toEqual(
      sorted.filter((path) => path.startsWith('p/') && comparePaths(path, 'p/0500') > 0),
    );
  });
});

describe('versions superseded, kept for the retention period (DynamoDB Local)', () => {
  it('an edit writes the old version as a VER# item with expiresAt; ListVersions lists both, newest first', async () => {
    const { committer, service, items, advance } = await setup(30 * DAY);
    await committer.commit(NS, ACTOR, [contentChange('doc', 0, [1])]);
    advance(1_000);
    await committer.commit(NS, ACTOR, [contentChange('doc', 1, [2])]);

    const versionItems = ofKind(await items(), 'VER#');
    expect(versionItems).toHaveLength(1);
    expect(versionItems[0]).toMatchObject({
      sk: 'VER#doc#000000000001',
      version: 1,
      blockHashes: [hashOf(1)],
      expiresAt: Math.floor((1_800_000_001_000 + 30 * DAY) / 1000),
    });
    expect(
      (await service.listVersions(NS, 'doc')).map((entry) => [entry.version, entry.content?.blockHashes]),
    ).toEqual([
      [2, [hashOf(2)]],
      [1, [hashOf(1)]],
    ]);
    // Until the period ends, to the second.
    advance(30 * DAY - 1);
    expect((await service.listVersions(NS, 'doc')).map((entry) => entry.version)).toEqual([2, 1]);
    advance(1);
    expect((await service.listVersions(NS, 'doc')).map((entry) => entry.version)).toEqual([2]);
  });

  it('reads files of the old layout (a version item for every version, no expiry) with the new ones', async () => {
    const { tables, committer, service, items } = await setup(30 * DAY);
    const pk = `NS#${NS}`;
    const attributes = (version: number) => ({
      path: 'old',
      version,
      deleted: false,
      contentHash: `hash-${version}`,
      size: 10,
      blockHashes: [hashOf(version)],
      modifiedAtMs: 1_000,
      committedAtMs: 1_000 * version,
      deviceId: 'device-0',
      journalSeq: version,
    });
    await dynamo.documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [tables.metadata]: [
            { sk: 'HEAD', seq: 2, live: 1 },
            { sk: 'FILE#old', ...attributes(2) },
            { sk: 'VER#old#000000000001', ...attributes(1) },
            { sk: 'VER#old#000000000002', ...attributes(2) },
          ].map((item) => ({ PutRequest: { Item: { pk, ...item } } })),
        },
      }),
    );
    expect((await service.listVersions(NS, 'old')).map((entry) => entry.version)).toEqual([2, 1]);

    await committer.commit(NS, ACTOR, [contentChange('old', 2, [3])]);
    await committer.commit(NS, ACTOR, [contentChange('old', 3, [4])]);
    expect(
      (await service.listVersions(NS, 'old')).map((entry) => [entry.version, entry.content?.blockHashes]),
    ).toEqual([
      [4, [hashOf(4)]],
      [3, [hashOf(3)]],
      [2, [hashOf(2)]],
      [1, [hashOf(1)]],
    ]);
    // The old layout's copy of version 2 was overwritten by the one that superseded it: it expires now.
    const versions = ofKind(await items(), 'VER#');
    expect(versions.map((item) => [item.version, typeof item.expiresAt])).toEqual([
      [1, 'undefined'],
      [2, 'number'],
      [3, 'number'],
    ]);
    // ListChanges still finds every version a journal entry names.
    const page = await service.listChanges(NS, 2, 10);
    expect(page.entries.map(({ changes }) => changes.map((change) => change.content?.blockHashes))).toEqual([
      [[hashOf(3)]],
      [[hashOf(4)]],
    ]);
  });

  it('keeps short block lists in the journal item, so ListChanges of a young record reads no version item', async () => {
    const { store, committer, service, items } = await setup(30 * DAY);
    const long = Array.from({ length: 9 }, (_, index) => 10 + index);
    await committer.commit(NS, ACTOR, [contentChange('small', 0, [1, 2]), contentChange('large', 0, long)]);
    const journal = ofKind(await items(), 'JOURNAL#');
    expect(
      journal.map((item) => (item.changes as { blockHashes?: string[] }[]).map((c) => c.blockHashes)),
    ).toEqual([[[hashOf(1), hashOf(2)], undefined]]);
    const asked: string[] = [];
    const getVersions = store.getVersions.bind(store);
    store.getVersions = (namespaceId, refs) => {
      asked.push(...refs.map(({ path }) => path));
      return getVersions(namespaceId, refs);
    };
    const page = await service.listChanges(NS, 0, 10);
    expect(page.entries.map(({ changes }) => changes.map((change) => change.content?.blockHashes))).toEqual([
      [[hashOf(1), hashOf(2)], long.map(hashOf)],
    ]);
    expect(asked).toEqual(['large']);
  });

  it('with retention 0 an old version and a deleted file’s content are gone at once, tombstone kept', async () => {
    const { committer, service, items, advance } = await setup(0);
    await committer.commit(NS, ACTOR, [contentChange('kept', 0, [1]), contentChange('gone', 0, [2])]);
    advance(1_000);
    await committer.commit(NS, ACTOR, [contentChange('kept', 1, [3]), deleteChange('gone', 1)]);
    const nowMs = 1_800_000_001_000;

    expect((await service.listVersions(NS, 'kept')).map((entry) => entry.version)).toEqual([2]);
    const gone = await service.listVersions(NS, 'gone');
    expect(gone.map((entry) => [entry.version, entry.deleted])).toEqual([[2, true]]);
    const stored = await items();
    // Only the current file's blocks are referenced: blocks 1 and 2 may be collected.
    expect(referencedBlocks(stored, nowMs)).toEqual([hashOf(3)]);
    // Clients still learn of the deletion from the tombstone.
    expect(ofKind(stored, 'FILE#').map((item) => [item.path, item.version, item.deleted])).toEqual([
      ['gone', 2, true],
      ['kept', 2, false],
    ]);
    const page = await service.listChanges(NS, 0, 10);
    expect(
      page.entries.map(({ changes }) => changes.map((change) => change.content?.blockHashes ?? null)),
    ).toEqual([
      // The superseded versions' journal entries keep their facts but no longer name blocks.
      [[], []],
      [null, [hashOf(3)]],
    ]);
  });
});

describe('kind 4 with folder markers (issue 7, DynamoDB Local)', () => {
  const outcomesOf = (result: { outcomes: readonly { path: string; kind: string }[] }) =>
    result.outcomes.map((outcome) => [outcome.path, outcome.kind]);

  it('refuses a file at a folder of live files, and queries nothing per new file', async () => {
    const context = await setup();
    await context.committer.commit(NS, ACTOR, [contentChange('docs/a/x.txt', 0, [1])]);
    const queries: string[] = [];
    const original = context.store.firstLiveBelow.bind(context.store);
    context.store.firstLiveBelow = (namespaceId, folder, ignoring) => {
      queries.push(folder);
      return original(namespaceId, folder, ignoring);
    };
    const result = await context.committer.commit(NS, ACTOR, [
      contentChange('docs/a', 0, [2]),
      contentChange('docs/b.txt', 0, [3]),
      contentChange('docs/a/y.txt', 0, [4]),
    ]);
    expect(outcomesOf(result)).toEqual([
      ['docs/a', 'rejected'],
      ['docs/b.txt', 'committed'],
      ['docs/a/y.txt', 'committed'],
    ]);
    expect(queries).toEqual(['docs/a']);
    expect(
      ofKind(await context.items(), 'FOLDER#')
        .map((item) => item.path)
        .sort(),
    ).toEqual(['docs', 'docs/a']);
  });

  it('marks the folders of a namespace from before markers once, and then refuses the clash', async () => {
    const context = await setup();
    await context.committer.commit(NS, ACTOR, [contentChange('old/deep/file.txt', 0, [1])]);
    // As a service version without markers left it: no FOLDER# items, a head without the flag.
    const folders = ofKind(await context.items(), 'FOLDER#');
    await dynamo.documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [context.tables.metadata]: folders.map((item) => ({
            DeleteRequest: { Key: { pk: item.pk, sk: item.sk } },
          })),
        },
      }),
    );
    const head = (await context.items()).find((item) => item.sk === 'HEAD')!;
    delete head.folderMarkers;
    await dynamo.documents.send(new PutCommand({ TableName: context.tables.metadata, Item: head }));
    expect(ofKind(await context.items(), 'FOLDER#')).toEqual([]);

    const result = await context.committer.commit(NS, ACTOR, [contentChange('old/deep', 0, [2])]);
    expect(outcomesOf(result)).toEqual([['old/deep', 'rejected']]);
    expect(
      ofKind(await context.items(), 'FOLDER#')
        .map((item) => item.path)
        .sort(),
    ).toEqual(['old', 'old/deep']);
  });
});

// Integration tests of the trash (issue 8) in the metadata store against DynamoDB Local (started
// here, in memory, tables and the trash index made from libs/resources), driven by the real
// Committer and MetadataService; only block storage is an in-memory fake (testing/fakes.ts
// committerSetup: blocks 1 to 20 exist).
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TRASH_INDEX } from '@filesync/resources';
import { comparePaths } from '@filesync/sync-core';
import { MetadataService } from '../domain/metadata-service';
import type { FileChange } from '../domain/model';
import { ACTOR, NS, committerSetup, contentChange, deleteChange, hashOf } from '../testing/fakes';
import { startDynamoDbLocal, type LocalDynamo } from '../testing/dynamo-local';
import { DynamoMetadataStore } from './dynamo-metadata-store';

const DAY = 24 * 60 * 60 * 1000;
let dynamo: LocalDynamo;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
});
afterAll(() => dynamo?.stop());

async function setup(retentionMs = 30 * DAY) {
  const tables = await dynamo.createTables(`trash${++tableCount}`);
  /** Items each query of the trash index returned. */
  const indexReads: number[] = [];
  /** Queries of the table itself (listings of files). */
  const tableQueries: string[] = [];
  const client = {
    send: async (command: any, options?: any) => {
      const output = await dynamo.documents.send(command, options);
      if (command instanceof QueryCommand && command.input.IndexName === TRASH_INDEX.name) {
        indexReads.push((output as { Items?: unknown[] }).Items?.length ?? 0);
      } else if (command instanceof QueryCommand) {
        tableQueries.push(String(command.input.ExpressionAttributeValues?.[':prefix']));
      }
      return output;
    },
  } as unknown as DynamoDBDocumentClient;
  let now = 1_800_000_000_000;
  const clock = { now: () => now };
  const store = new DynamoMetadataStore(client, tables, { now: clock.now, retentionMs });
  const { committer, blocks } = committerSetup({ store, clock, retentionMs });
  const service = new MetadataService(store, committer, blocks, retentionMs);
  const commit = async (changes: FileChange[]) => {
    const { outcomes } = await committer.commit(NS, ACTOR, changes, { confirmMassDelete: true });
    for (const outcome of outcomes) expect(outcome.kind).toBe('committed');
  };
  const fileItem = async (path: string) =>
    (await dynamo.namespaceItems(tables.metadata, NS)).find(
      (item) => String(item.sk).startsWith('FILE#') && item.path === path,
    );
  /** Makes the namespace look as if written before the trash index: no index attributes, no head flag. */
  const forgetIndex = async () => {
    for (const item of await dynamo.namespaceItems(tables.metadata, NS)) {
      const attributes = String(item.sk).startsWith('FILE#')
        ? [TRASH_INDEX.partitionKey, TRASH_INDEX.sortKey, 'trashExpiresAtMs', 'trashSize']
        : item.sk === 'HEAD'
          ? ['trashIndexed']
          : [];
      if (attributes.length === 0) continue;
      await dynamo.documents.send(
        new UpdateCommand({
          TableName: tables.metadata,
          Key: { pk: item.pk, sk: item.sk },
          UpdateExpression: `REMOVE ${attributes.map((_, i) => `#a${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name])),
        }),
      );
    }
  };
  return {
    tables,
    store,
    service,
    commit,
    indexReads,
    tableQueries,
    fileItem,
    forgetIndex,
    now: () => now,
    advance: (ms: number) => (now += ms),
  };
}

const pathsOf = (entries: readonly { path: string }[]) => entries.map((entry) => entry.path);

describe('the trash index (DynamoDB Local)', () => {
  it('holds a file while it is deleted: a restore or new content takes it out', async () => {
    const { commit, fileItem, store, now } = await setup();
    await commit([contentChange('a.txt', 0, [1]), contentChange('b.txt', 0, [2])]);
    expect(await fileItem('a.txt')).not.toHaveProperty(TRASH_INDEX.partitionKey);
    await commit([deleteChange('a.txt', 1), deleteChange('b.txt', 1)]);
    expect(await fileItem('a.txt')).toMatchObject({
      [TRASH_INDEX.partitionKey]: `NS#${NS}`,
      [TRASH_INDEX.sortKey]: 'a.txt',
      trashExpiresAtMs: now() + 30 * DAY,
      trashSize: 10,
    });
    await commit([contentChange('b.txt', 2, [3])]);
    expect(await fileItem('b.txt')).not.toHaveProperty(TRASH_INDEX.partitionKey);
    const page = await store.listTrash(NS, { prefix: '', limit: 10 });
    expect(page).toEqual({
      hasMore: false,
      entries: [
        {
          path: 'a.txt',
          version: 2,
          deletedAtMs: now(),
          deviceId: ACTOR.deviceId,
          expiresAtMs: now() + 30 * DAY,
          size: 10,
        },
      ],
    });
  });

  it('reads the deleted files below the prefix only, however many live files the namespace holds', async () => {
    const { commit, store, indexReads } = await setup();
    const live = Array.from({ length: 300 }, (_, i) =>
      contentChange(`live/${String(i).padStart(3, '0')}`, 0),
    );
    await commit([
      ...live,
      ...['docs/x', 'docs/y', 'docs-old/z', 'docs.txt'].map((p) => contentChange(p, 0)),
    ]);
    await commit(['docs/x', 'docs/y', 'docs-old/z', 'docs.txt'].map((path) => deleteChange(path, 1)));

    indexReads.length = 0;
    expect(pathsOf((await store.listTrash(NS, { prefix: 'docs', limit: 10 })).entries)).toEqual([
      'docs/x',
      'docs/y',
    ]);
    // The key of `docs` itself, then the range below `docs/`: `docs-old/z` and `docs.txt` sort
    // between them and are never read.
    expect(indexReads.reduce((sum, count) => sum + count, 0)).toBe(2);
    expect(pathsOf((await store.listTrash(NS, { prefix: '', limit: 10 })).entries)).toEqual([
      'docs-old/z',
      'docs.txt',
      'docs/x',
      'docs/y',
    ]);
    expect(pathsOf((await store.listTrash(NS, { prefix: 'docs.txt', limit: 10 })).entries)).toEqual([
      'docs.txt',
    ]);
  });

  it('pages in path order, and leaves out what is past the retention period', async () => {
    const { commit, store, advance } = await setup(DAY);
    const paths = Array.from({ length: 25 }, (_, i) => `f/${String(i).padStart(2, '0')}`);
    await commit(paths.map((path) => contentChange(path, 0)));
    await commit(paths.slice(0, 20).map((path) => deleteChange(path, 1)));
    advance(DAY / 2);
    await commit(paths.slice(20).map((path) => deleteChange(path, 1)));

    const listed: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.listTrash(NS, { prefix: 'f', afterPath: after, limit: 7 });
      listed.push(...pathsOf(page.entries));
      if (!page.hasMore) break;
      after = page.entries.at(-1)!.path;
    }
    expect(listed).toEqual(paths);
    advance(DAY / 2);
    expect(pathsOf((await store.listTrash(NS, { prefix: '', limit: 100 })).entries)).toEqual(paths.slice(20));
  });

  it('lists 4 KiB paths sharing their first 900 bytes (digested keys) in exact path order, page by page', async () => {
    const { commit, store } = await setup();
    const folder = `deep/${'d'.repeat(900)}`;
    // Names whose key order (by digest) is unlike their path order.
    const paths = ['b', 'a', 'é', 'c', 'ab'].map((name) => `${folder}/${name.repeat(1500).slice(0, 1500)}`);
    for (const path of paths) expect(Buffer.byteLength(path)).toBeLessThanOrEqual(4096);
    await commit(paths.map((path) => contentChange(path, 0)));
    await commit(paths.map((path) => deleteChange(path, 1)));
    const expected = [...paths].sort(comparePaths);

    expect(pathsOf((await store.listTrash(NS, { prefix: folder, limit: 10 })).entries)).toEqual(expected);
    const listed: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.listTrash(NS, { prefix: 'deep', afterPath: after, limit: 1 });
      listed.push(...pathsOf(page.entries));
      if (!page.hasMore) break;
      after = page.entries.at(-1)!.path;
    }
    expect(listed).toEqual(expected);
    expect(pathsOf((await store.listTrash(NS, { prefix: expected[2]!, limit: 10 })).entries)).toEqual([
      expected[2],
    ]);
  });

  it('stops reading for a caller that gave up', async () => {
    const { store } = await setup();
    const controller = new AbortController();
    controller.abort();
    await expect(store.listTrash(NS, { prefix: '', limit: 10 }, controller.signal)).rejects.toThrow();
  });
});

describe('tombstones from before the trash index (DynamoDB Local)', () => {
  it('are indexed by the first ListTrash, once, from the versions they superseded', async () => {
    const { commit, store, forgetIndex, tables, tableQueries, now, fileItem } = await setup(DAY);
    await commit([
      contentChange('old/a', 0, [1]),
      contentChange('old/b', 0, [2]),
      contentChange('c', 0, [3]),
    ]);
    await commit([deleteChange('old/a', 1), deleteChange('old/b', 1)]);
    await forgetIndex();
    // An old-layout version item has no expiry: the retention period counts from the deletion.
    await dynamo.documents.send(
      new UpdateCommand({
        TableName: tables.metadata,
        Key: { pk: `NS#${NS}`, sk: 'VER#old/b#000000000001' },
        UpdateExpression: 'REMOVE expiresAt',
      }),
    );
    expect(await fileItem('old/a')).not.toHaveProperty(TRASH_INDEX.partitionKey);

    tableQueries.length = 0;
    const page = await store.listTrash(NS, { prefix: '', limit: 10 });
    expect(page.entries.map((entry) => [entry.path, entry.expiresAtMs, entry.size])).toEqual([
      ['old/a', now() + DAY, 10],
      ['old/b', now() + DAY, 10],
    ]);
    expect(tableQueries).toEqual(['FILE#']);
    const head = (await dynamo.namespaceItems(tables.metadata, NS)).find((item) => item.sk === 'HEAD');
    expect(head).toMatchObject({ trashIndexed: true });
    await store.listTrash(NS, { prefix: '', limit: 10 });
    expect(tableQueries).toEqual(['FILE#']);
  });

  it('are indexed before the first commit of this version, which then flags the head', async () => {
    const { commit, store, forgetIndex, tables } = await setup();
    await commit([contentChange('x', 0, [1]), contentChange('y', 0, [2])]);
    await commit([deleteChange('x', 1)]);
    await forgetIndex();
    await commit([contentChange('z', 0, [3])]);
    const head = (await dynamo.namespaceItems(tables.metadata, NS)).find((item) => item.sk === 'HEAD');
    expect(head).toMatchObject({ trashIndexed: true });
    expect(pathsOf((await store.listTrash(NS, { prefix: '', limit: 10 })).entries)).toEqual(['x']);
  });
});

describe('restores through the store (DynamoDB Local)', () => {
  it('restores a deleted folder of 60 files in one call: new versions, old content, trash empty', async () => {
    const { commit, service, store } = await setup();
    const paths = Array.from({ length: 60 }, (_, i) => `album/${String(i).padStart(2, '0')}.jpg`);
    await commit(paths.map((path, i) => contentChange(path, 0, [(i % 20) + 1])));
    await commit(paths.map((path) => deleteChange(path, 1)));

    const result = await service.restoreFiles(NS, ACTOR, ['album']);
    expect(result.next).toBeUndefined();
    expect(result.outcomes.every((outcome) => outcome.kind === 'restored')).toBe(true);
    const current = await store.currentEntries(NS, paths);
    paths.forEach((path, i) => {
      expect(current.get(path)).toMatchObject({ version: 3, deleted: false });
      expect(current.get(path)!.content!.blockHashes).toEqual([hashOf((i % 20) + 1)]);
    });
    expect((await store.listTrash(NS, { prefix: '', limit: 10 })).entries).toEqual([]);
  });

  it('says when each superseded version expires; a version past it cannot be restored', async () => {
    const { commit, service, now, advance } = await setup(DAY);
    await commit([contentChange('doc', 0, [1])]);
    const firstSuperseded = now();
    await commit([contentChange('doc', 1, [2])]);
    advance(1_000);
    await commit([contentChange('doc', 2, [3])]);
    const versions = await service.listVersions(NS, 'doc');
    expect(versions.map((version) => [version.version, version.expiresAtMs])).toEqual([
      [3, undefined],
      [2, firstSuperseded + 1_000 + DAY],
      [1, firstSuperseded + DAY],
    ]);
    advance(DAY - 500);
    await expect(service.restoreVersion(NS, ACTOR, 'doc', 1, 0)).rejects.toMatchObject({
      kind: 'failed-precondition',
      details: { restore: 'expired' },
    });
    const { entry } = await service.restoreVersion(NS, ACTOR, 'doc', 2, 3);
    expect(entry).toMatchObject({ version: 4, content: { blockHashes: [hashOf(2)] } });
  });
});

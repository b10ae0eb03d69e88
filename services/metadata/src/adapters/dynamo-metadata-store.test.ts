// Unit tests with a fake DynamoDB document client that records commands (no network).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LIMITS } from '@filesync/resources';
import { DynamoMetadataStore, blockListParts, outcomeOf, prefixEnd } from './dynamo-metadata-store';
import type { TransactionWrite } from '../domain/ports';
import { ACTOR, NS, entry } from '../testing/fakes';

function fakeClient(answer: (command: { constructor: { name: string }; input: any }) => unknown) {
  const commands: { name: string; input: any }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: any }) => {
      commands.push({ name: command.constructor.name, input: command.input });
      return answer(command);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, commands };
}

const write = (expectedSeq: number): TransactionWrite => ({
  namespaceId: NS,
  expectedSeq,
  head: { seq: expectedSeq + 1, live: 1, window: undefined },
  journal: { namespaceId: NS, seq: expectedSeq + 1, committedAtMs: 9, actor: ACTOR, changes: [] },
  files: [
    { entry: entry('new', 1), expectedVersion: 0, wasLive: false },
    { entry: entry('old', 4, true), expectedVersion: 3, wasLive: true, superseded: entry('old', 3) },
  ],
  // 2001-09-09T01:46:40.500Z: its versions expire at that second.
  supersededExpireAtMs: 1_000_000_000_500,
  event: {
    eventId: `${NS}:${expectedSeq + 1}`,
    namespaceId: NS,
    seq: expectedSeq + 1,
    committedAtMs: 9,
    actor: ACTOR,
    changes: [],
    recipients: [],
  },
});

describe('DynamoMetadataStore.commit', () => {
  it('writes head, file, superseded version, journal and outbox items with their conditions in one transaction', async () => {
    const { client, commands } = fakeClient(() => ({}));
    const store = new DynamoMetadataStore(client, { metadata: 'meta', outbox: 'out' });
    expect(await store.commit(write(0))).toEqual({ kind: 'committed' });

    const transactItems = commands[0]!.input.TransactItems;
    // A new file costs 1 item, a deletion 2, the transaction itself 3 (no live-index items).
    expect(transactItems).toHaveLength(6);
    const items = transactItems.map((item: any) => item.Put);
    expect(
      items.map((put: any) => [put.TableName, put.Item.pk, put.Item.sk, put.ConditionExpression]),
    ).toEqual([
      ['meta', `NS#${NS}`, 'HEAD', 'attribute_not_exists(#pk)'],
      ['meta', `NS#${NS}`, 'FILE#new', 'attribute_not_exists(#pk)'],
      ['meta', `NS#${NS}`, 'FILE#old', '#version = :expected'],
      ['meta', `NS#${NS}`, 'VER#old#000000000003', undefined],
      ['meta', `NS#${NS}`, 'JOURNAL#000000000001', 'attribute_not_exists(#pk)'],
      ['out', `EVENT#${NS}:1`, 'EVENT', 'attribute_not_exists(#pk)'],
    ]);
    expect(items[0].Item).toMatchObject({ seq: 1, live: 1 });
    expect(items[2].ExpressionAttributeValues).toEqual({ ':expected': 3 });
    expect(items[2].Item).toMatchObject({ path: 'old', version: 4, deleted: true, size: 0, blockHashes: [] });
    // The superseded version, copied whole, expires after the retention period (Unix seconds).
    expect(items[3].Item).toMatchObject({
      path: 'old',
      version: 3,
      deleted: false,
      blockHashes: entry('old', 3).content!.blockHashes,
      expiresAt: 1_000_000_000,
    });
    expect(items[1].Item.expiresAt).toBeUndefined();
    expect(JSON.parse(items[5].Item.body)).toMatchObject({ eventId: `${NS}:1` });
    // Every placeholder used is declared, and every declared one is used (DynamoDB rejects both).
    for (const put of items.filter((item: any) => item.ConditionExpression)) {
      const names = Object.keys(put.ExpressionAttributeNames ?? {});
      const values = Object.keys(put.ExpressionAttributeValues ?? {});
      const used = put.ConditionExpression.match(/[#:][a-z]+/g);
      expect([...names, ...values].sort()).toEqual([...used].sort());
    }
  });

  it('conditions the head on the expected sequence once it exists', async () => {
    const { client, commands } = fakeClient(() => ({}));
    await new DynamoMetadataStore(client, { metadata: 'meta', outbox: 'out' }).commit(write(6));
    const head = commands[0]!.input.TransactItems[0].Put;
    expect(head).toMatchObject({
      ConditionExpression: '#seq = :expected',
      ExpressionAttributeNames: { '#seq': 'seq' },
      ExpressionAttributeValues: { ':expected': 6 },
      Item: { seq: 7 },
    });
  });

  it('turns a cancelled transaction into conflicts and races', async () => {
    const cancelled = Object.assign(new Error('cancelled'), {
      name: 'TransactionCanceledException',
      CancellationReasons: [
        { Code: 'None' },
        { Code: 'None' },
        { Code: 'ConditionalCheckFailed' },
        { Code: 'None' },
        { Code: 'None' },
        { Code: 'None' },
      ],
    });
    const { client } = fakeClient(() => {
      throw cancelled;
    });
    expect(await new DynamoMetadataStore(client, { metadata: 'm', outbox: 'o' }).commit(write(2))).toEqual({
      kind: 'rejected',
      conflictingPaths: ['old'],
      raced: false,
    });
  });

  it('rethrows errors that are not cancellations', async () => {
    const { client } = fakeClient(() => {
      throw Object.assign(new Error('bad'), { name: 'ValidationException' });
    });
    await expect(
      new DynamoMetadataStore(client, { metadata: 'm', outbox: 'o' }).commit(write(0)),
    ).rejects.toThrow('bad');
  });
});

describe('outcomeOf', () => {
  const slots = [
    { kind: 'head' as const },
    { kind: 'file' as const, path: 'a' },
    { kind: 'file' as const, path: 'a' },
    { kind: 'other' as const },
  ];
  it('reads a failed head condition or a concurrent transaction as a race', () => {
    expect(outcomeOf(['ConditionalCheckFailed', 'None', 'None', 'None'], slots)).toEqual({
      kind: 'rejected',
      conflictingPaths: [],
      raced: true,
    });
    expect(outcomeOf(['None', 'TransactionConflict', 'None', 'None'], slots)).toMatchObject({ raced: true });
  });

  it('reports both a head race and a file conflict', () => {
    expect(outcomeOf(['ConditionalCheckFailed', 'ConditionalCheckFailed', 'None', 'None'], slots)).toEqual({
      kind: 'rejected',
      conflictingPaths: ['a'],
      raced: true,
    });
  });

  it('rethrows reasons that are not preconditions', () => {
    expect(() => outcomeOf(['None', 'ValidationError', 'None', 'None'], slots)).toThrow('ValidationError');
  });
});

describe('prefix queries as key ranges (DynamoDB Local reads past a begins_with prefix)', () => {
  it('ends the range just above every key with the prefix', () => {
    expect(prefixEnd('FILE#')).toBe('FILE$');
    expect(prefixEnd('LIVE#a/')).toBe('LIVE#a0');
    expect(prefixEnd('VER#é')).toBe('VER#ê');
    expect(prefixEnd('LIVE#\u{1F600}')).toBe('LIVE#\u{1F601}');
    expect(prefixEnd('x\ud7ff')).toBe('x\ue000');
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    for (const key of ['LIVE#a/', 'LIVE#a/\u{10FFFF}', 'LIVE#a/zz\u{1F600}']) {
      expect(Buffer.compare(bytes(key), bytes(prefixEnd('LIVE#a/')))).toBe(-1);
    }
  });

  it('queries the range and drops its end key', async () => {
    const { client, commands } = fakeClient(() => ({
      Items: [
        { sk: 'FOLLOW#a#u1', path: 'a', userId: 'u1', email: 'e' },
        { sk: 'FOLLOW$', path: 'x', userId: 'u2', email: 'e' },
      ],
    }));
    const follows = await new DynamoMetadataStore(client, { metadata: 'm', outbox: 'o' }).listFollows(NS);
    expect(follows.map((follow) => follow.userId)).toEqual(['u1']);
    expect(commands[0]!.input).toMatchObject({
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :prefix AND :prefixEnd',
      ExpressionAttributeValues: { ':prefix': 'FOLLOW#', ':prefixEnd': 'FOLLOW$' },
    });
  });
});

describe('DynamoMetadataStore.listFiles', () => {
  it('reads bounded pages, from the group of start_after on, cancellable by the caller', async () => {
    const pages = [
      {
        Items: [
          { sk: 'FILE#b', path: 'b' },
          { sk: 'FILE#c', path: 'c' },
        ],
        LastEvaluatedKey: { sk: 'FILE#c' },
      },
      { Items: [{ sk: 'FILE#d', path: 'd' }] },
    ];
    const signals: (AbortSignal | undefined)[] = [];
    const commands: { name: string; input: any }[] = [];
    const client = {
      send: async (
        command: { constructor: { name: string }; input: any },
        options?: { abortSignal?: AbortSignal },
      ) => {
        commands.push({ name: command.constructor.name, input: command.input });
        signals.push(options?.abortSignal);
        return pages.shift();
      },
    } as unknown as DynamoDBDocumentClient;
    const signal = new AbortController().signal;
    const listed: string[] = [];
    const store = new DynamoMetadataStore(client, { metadata: 'm', outbox: 'o' });
    for await (const page of store.listFiles(NS, { startAfter: 'b', signal })) {
      listed.push(...page.map((entry) => entry.path));
    }
    // `b` itself starts the range (a long path's group holds paths before and after it): dropped.
    expect(listed).toEqual(['c', 'd']);
    expect(commands.map((command) => command.input)).toMatchObject([
      {
        Limit: LIMITS.listFilesQueryItems,
        ExpressionAttributeValues: { ':prefix': 'FILE#b', ':prefixEnd': 'FILE$' },
      },
      { Limit: LIMITS.listFilesQueryItems, ExclusiveStartKey: { sk: 'FILE#c' } },
    ]);
    expect(signals).toEqual([signal, signal]);
  });
});

describe('DynamoMetadataStore reads', () => {
  it('keeps only the exact path when a version prefix also matches a longer path', async () => {
    const { client, commands } = fakeClient(() => ({
      Items: [
        { path: 'a#b', version: 1, deleted: false, sk: 'VER#a#b#000000000001' },
        { path: 'a', version: 2, deleted: false, sk: 'VER#a#000000000002' },
      ],
    }));
    const versions = await new DynamoMetadataStore(client, { metadata: 'm', outbox: 'o' }).listVersions(
      NS,
      'a',
    );
    expect(versions.map((v) => [v.path, v.version])).toEqual([['a', 2]]);
    expect(commands.find((command) => command.name === 'QueryCommand')!.input).toMatchObject({
      ScanIndexForward: false,
      ConsistentRead: true,
    });
  });

  // 2001-09-09T01:46:40Z in Unix seconds: the tests' clock reads it.
  const NOW_S = 1_000_000_000;
  const item = (version: number, extra: Record<string, unknown> = {}) => ({
    sk: `VER#a#${String(version).padStart(12, '0')}`,
    path: 'a',
    version,
    deleted: false,
    contentHash: `c${version}`,
    size: version,
    blockHashes: [],
    ...extra,
  });

  it('lists the current FILE# entry and the retained VER# items of both layouts, newest first', async () => {
    const { client } = fakeClient((command) =>
      command.constructor.name === 'GetCommand'
        ? { Item: item(5) }
        : {
            Items: [
              // The old layout: a version item of the current version too, no expiry.
              item(5, { contentHash: 'stale copy' }),
              item(4, { expiresAt: NOW_S + 1 }),
              item(3, { expiresAt: NOW_S }),
              item(2),
              item(1, { expiresAt: NOW_S - 60 }),
            ],
          },
    );
    const store = new DynamoMetadataStore(
      client,
      { metadata: 'm', outbox: 'o' },
      { now: () => NOW_S * 1000 },
    );
    const versions = await store.listVersions(NS, 'a');
    // Version 3 expired this very second and 1 a minute ago: both are gone.
    expect(versions.map((v) => [v.version, v.content?.contentHash])).toEqual([
      [5, 'c5'],
      [4, 'c4'],
      [2, 'c2'],
    ]);
  });

  it('reads a journal page’s versions from the FILE# items first, then the retained VER# items', async () => {
    const { client, commands } = fakeClient((command) => {
      const keys = command.input.RequestItems.m.Keys as { sk: string }[];
      const items = keys.flatMap(({ sk }) => {
        if (sk === 'FILE#a') return [item(3)];
        if (sk === 'VER#a#000000000002') return [item(2, { expiresAt: NOW_S + 60 })];
        if (sk === 'VER#a#000000000001') return [item(1, { expiresAt: NOW_S - 1 })];
        return [];
      });
      return { Responses: { m: items } };
    });
    const store = new DynamoMetadataStore(
      client,
      { metadata: 'm', outbox: 'o' },
      { now: () => NOW_S * 1000 },
    );
    const versions = await store.getVersions(NS, [
      { path: 'a', version: 1 },
      { path: 'a', version: 2 },
      { path: 'a', version: 3 },
    ]);
    expect([...versions.keys()].sort()).toEqual(['2:a', '3:a']);
    expect(commands.map((command) => command.input.RequestItems.m.Keys.map((key: any) => key.sk))).toEqual([
      ['FILE#a'],
      ['VER#a#000000000001', 'VER#a#000000000002'],
    ]);
  });

  it('queries the journal after the cursor and detects more', async () => {
    const { client, commands } = fakeClient(() => ({
      Items: [1, 2, 3].map((seq) => ({ seq, changes: [], committedAtMs: 1 })),
      LastEvaluatedKey: { pk: 'x', sk: 'y' },
    }));
    const page = await new DynamoMetadataStore(client, { metadata: 'm', outbox: 'o' }).listJournal(NS, 4, 2);
    expect(commands[0]!.input.ExpressionAttributeValues).toMatchObject({ ':from': 'JOURNAL#000000000005' });
    expect(commands[0]!.input.Limit).toBe(3);
    expect(page.records.map((record) => record.seq)).toEqual([1, 2]);
    expect(page.hasMore).toBe(true);
  });
});

describe('kind 10: long block lists are stored apart, before the transaction that references them', () => {
  const hashes = Array.from({ length: 50_000 }, (_, index) => index.toString(16).padStart(64, '0'));
  const longWrite = (): TransactionWrite => {
    const base = write(0);
    const big = entry('big', 1);
    return {
      ...base,
      files: [
        {
          entry: { ...big, content: { contentHash: 'c'.repeat(64), size: 50_000, blockHashes: hashes } },
          expectedVersion: 0,
          wasLive: false,
        },
      ],
    };
  };

  it('writes the parts first, then an entry that names how many there are', async () => {
    const { client, commands } = fakeClient(() => ({}));
    await new DynamoMetadataStore(client, { metadata: 'meta', outbox: 'out' }).commit(longWrite());
    expect(commands.map((command) => command.name)).toEqual(['BatchWriteCommand', 'TransactWriteCommand']);
    const parts = commands[0]!.input.RequestItems.meta.map((request: any) => request.PutRequest.Item);
    expect(parts.map((part: any) => [part.sk, part.hashes.length])).toEqual([
      [`BLOCKLIST#${'c'.repeat(64)}#000000`, 12_000 * 32],
      [`BLOCKLIST#${'c'.repeat(64)}#000001`, 12_000 * 32],
      [`BLOCKLIST#${'c'.repeat(64)}#000002`, 12_000 * 32],
      [`BLOCKLIST#${'c'.repeat(64)}#000003`, 12_000 * 32],
      [`BLOCKLIST#${'c'.repeat(64)}#000004`, 2_000 * 32],
    ]);
    const file = commands[1]!.input.TransactItems[1].Put.Item;
    expect(file).toMatchObject({ sk: 'FILE#big', blockHashes: [], blockListParts: 5 });
    // Every item stays below DynamoDB's 400 KB limit.
    for (const part of parts) expect(part.hashes.length).toBeLessThan(400 * 1024 - 200);
  });

  it('reads the full list back, in order', async () => {
    const parts = blockListParts(hashes);
    const { client } = fakeClient((command) => {
      const keys = command.input.RequestItems.meta.Keys as { sk: string }[];
      const items = keys.map(({ sk }) =>
        sk === 'FILE#big'
          ? {
              path: 'big',
              version: 1,
              deleted: false,
              contentHash: 'c'.repeat(64),
              size: 9,
              blockHashes: [],
              blockListParts: 5,
            }
          : { sk, hashes: parts[Number(sk.split('#')[2])] },
      );
      return { Responses: { meta: items } };
    });
    const entries = await new DynamoMetadataStore(client, { metadata: 'meta', outbox: 'out' }).currentEntries(
      NS,
      ['big'],
    );
    expect(entries.get('big')!.content!.blockHashes).toEqual(hashes);
  });
});

describe('kind 4: a namespace from before the live count or folder markers', () => {
  it('counts its live files and marks their folders once, from one listing of its files', async () => {
    const { client, commands } = fakeClient((command) => {
      if (command.constructor.name === 'GetCommand') return { Item: { pk: `NS#${NS}`, sk: 'HEAD', seq: 7 } };
      if (command.constructor.name === 'QueryCommand') {
        return {
          Items: [
            { sk: 'FILE#a', path: 'a', deleted: false },
            { sk: 'FILE#gone/x', path: 'gone/x', deleted: true },
            { sk: 'FILE#b/c', path: 'b/c', deleted: false },
          ],
        };
      }
      return {};
    });
    const head = await new DynamoMetadataStore(client, { metadata: 'meta', outbox: 'out' }).readHeadState(NS);
    expect(head).toEqual({ seq: 7, live: 2, window: undefined });
    expect(commands.filter((command) => command.name === 'QueryCommand')).toHaveLength(1);
    const written = commands.find((command) => command.name === 'BatchWriteCommand')!;
    expect(written.input.RequestItems.meta.map((request: any) => request.PutRequest.Item)).toEqual([
      { pk: `NS#${NS}`, sk: 'FOLDER#b', path: 'b' },
    ]);
  });

  it('reads the live count and deletion window kept on the head', async () => {
    const { client, commands } = fakeClient(() => ({
      Item: {
        seq: 3,
        live: 12,
        folderMarkers: true,
        trashIndexed: true,
        windowStartMs: 5,
        windowLiveAtStart: 20,
        windowDeleted: 8,
        windowCreated: 3,
      },
    }));
    expect(
      await new DynamoMetadataStore(client, { metadata: 'meta', outbox: 'out' }).readHeadState(NS),
    ).toEqual({
      seq: 3,
      live: 12,
      window: { startMs: 5, liveAtStart: 20, deleted: 8, created: 3 },
    });
    expect(commands).toHaveLength(1);
  });
});

describe('kind 4: a namespace from before folder markers (issue 7)', () => {
  it('marks the folders of its live files once and keeps the live count the head has', async () => {
    const { client, commands } = fakeClient((command) => {
      if (command.constructor.name === 'GetCommand') return { Item: { seq: 4, live: 3 } };
      if (command.constructor.name === 'QueryCommand') {
        return {
          Items: ['a/b/c.txt', 'a/d.txt', 'top.txt'].map((path) => ({
            sk: `FILE#${path}`,
            path,
            deleted: false,
          })),
        };
      }
      return {};
    });
    const head = await new DynamoMetadataStore(client, { metadata: 'meta', outbox: 'out' }).readHeadState(NS);
    expect(head).toEqual({ seq: 4, live: 3, window: undefined });
    const query = commands.find((command) => command.name === 'QueryCommand')!;
    expect(query.input.ExpressionAttributeValues[':prefix']).toBe('FILE#');
    const written = commands.find((command) => command.name === 'BatchWriteCommand')!;
    expect(written.input.RequestItems.meta.map((request: any) => request.PutRequest.Item)).toEqual([
      { pk: `NS#${NS}`, sk: 'FOLDER#a', path: 'a' },
      { pk: `NS#${NS}`, sk: 'FOLDER#a/b', path: 'a/b' },
    ]);
  });
});

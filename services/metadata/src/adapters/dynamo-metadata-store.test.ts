// Unit tests with a fake DynamoDB document client that records commands (no network).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoMetadataStore, blockListParts, outcomeOf } from './dynamo-metadata-store';
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
    { entry: entry('old', 4, true), expectedVersion: 3, wasLive: true },
  ],
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
  it('writes head, file, version, journal and outbox items with their conditions in one transaction', async () => {
    const { client, commands } = fakeClient(() => ({}));
    const store = new DynamoMetadataStore(client, { metadata: 'meta', outbox: 'out' });
    expect(await store.commit(write(0))).toEqual({ kind: 'committed' });

    const transactItems = commands[0]!.input.TransactItems;
    // The live index (issue 6, kind 4): a new live file is indexed, a deleted one leaves it.
    expect(transactItems[3]).toEqual({
      Put: { TableName: 'meta', Item: { pk: `NS#${NS}`, sk: 'LIVE#new', path: 'new' } },
    });
    expect(transactItems[6]).toEqual({
      Delete: { TableName: 'meta', Key: { pk: `NS#${NS}`, sk: 'LIVE#old' } },
    });
    const items = transactItems
      .map((item: any) => item.Put)
      .filter((put: any) => put && !put.Item.sk.startsWith('LIVE#'));
    expect(
      items.map((put: any) => [put.TableName, put.Item.pk, put.Item.sk, put.ConditionExpression]),
    ).toEqual([
      ['meta', `NS#${NS}`, 'HEAD', 'attribute_not_exists(#pk)'],
      ['meta', `NS#${NS}`, 'FILE#new', 'attribute_not_exists(#pk)'],
      ['meta', `NS#${NS}`, 'VER#new#000000000001', 'attribute_not_exists(#pk)'],
      ['meta', `NS#${NS}`, 'FILE#old', '#version = :expected'],
      ['meta', `NS#${NS}`, 'VER#old#000000000004', 'attribute_not_exists(#pk)'],
      ['meta', `NS#${NS}`, 'JOURNAL#000000000001', 'attribute_not_exists(#pk)'],
      ['out', `EVENT#${NS}:1`, 'EVENT', 'attribute_not_exists(#pk)'],
    ]);
    expect(items[0].Item).toMatchObject({ seq: 1, live: 1 });
    expect(items[3].ExpressionAttributeValues).toEqual({ ':expected': 3 });
    expect(items[3].Item).toMatchObject({ path: 'old', version: 4, deleted: true, size: 0, blockHashes: [] });
    expect(JSON.parse(items[6].Item.body)).toMatchObject({ eventId: `${NS}:1` });
    // Every placeholder used is declared, and every declared one is used (DynamoDB rejects both).
    for (const put of items) {
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
        { Code: 'None' },
        { Code: 'None' },
        { Code: 'ConditionalCheckFailed' },
        { Code: 'None' },
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
    expect(commands[0]!.input).toMatchObject({ ScanIndexForward: false, ConsistentRead: true });
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

describe('kind 4: a namespace from before the live index', () => {
  it('is indexed once, by its first head read, and its live files counted', async () => {
    const { client, commands } = fakeClient((command) => {
      if (command.constructor.name === 'GetCommand') return { Item: { pk: `NS#${NS}`, sk: 'HEAD', seq: 7 } };
      if (command.constructor.name === 'QueryCommand') {
        return {
          Items: [
            { path: 'a', deleted: false },
            { path: 'gone', deleted: true },
            { path: 'b/c', deleted: false },
          ],
        };
      }
      return {};
    });
    const head = await new DynamoMetadataStore(client, { metadata: 'meta', outbox: 'out' }).readHeadState(NS);
    expect(head).toEqual({ seq: 7, live: 2, window: undefined });
    const written = commands.find((command) => command.name === 'BatchWriteCommand')!;
    expect(written.input.RequestItems.meta.map((request: any) => request.PutRequest.Item)).toEqual([
      { pk: `NS#${NS}`, sk: 'LIVE#a', path: 'a' },
      { pk: `NS#${NS}`, sk: 'LIVE#b/c', path: 'b/c' },
    ]);
  });

  it('reads the live count and deletion window kept on the head', async () => {
    const { client, commands } = fakeClient(() => ({
      Item: { seq: 3, live: 12, windowStartMs: 5, windowLiveAtStart: 20, windowDeleted: 8, windowCreated: 3 },
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

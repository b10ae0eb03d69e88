import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type { auth, common, metadata } from '@filesync/contracts';
import { LOCAL_CREDENTIALS } from '@filesync/local-stack';
import { LIMITS } from '@filesync/resources';
import { blockHash, contentHash, packTrailerBytes } from '@filesync/sync-core';
import {
  as,
  buildPack,
  callError,
  clientStorage,
  connectStubs,
  expectedTable,
  packMessage,
  putPack,
  signUp,
  statusTable,
  storeBlocks,
  type Stubs,
  trailer,
  unary,
} from '@filesync/test-support';
import { readTestStack } from './support/harness';

// Issue 7: the metadata service's block index (RegisterPacks, LocateBlocks, FindMissingBlocks and
// the commit's check) against DynamoDB Local and moto, through the generated stubs only. The
// garbage collector's marks are written straight into the table, as the collector writes them.

const stack = readTestStack();

describe('issue 7 block index', () => {
  let stubs: Stubs;
  let table: DynamoDBDocumentClient;
  const tableName = stack.resources.tables.metadata;

  beforeAll(() => {
    stubs = connectStubs(stack);
    table = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: stack.resources.region,
        endpoint: stack.emulators.dynamodb,
        credentials: LOCAL_CREDENTIALS,
      }),
    );
  });
  afterAll(() => {
    stubs?.close();
    table?.destroy();
  });

  const blocksOf = (count: number, bytes = 100) => Array.from({ length: count }, () => randomBytes(bytes));
  const fileOf = (blocks: readonly Uint8Array[]): common.FileContent => {
    const blockHashes = blocks.map((block) => blockHash(block));
    return {
      contentHash: contentHash(blockHashes),
      size: blocks.reduce((sum, block) => sum + block.byteLength, 0),
      blockHashes,
    };
  };
  const register = (session: auth.Session, packs: metadata.Pack[], namespaceId = session.rootNamespaceId) =>
    unary(stubs.metadata.registerPacks.bind(stubs.metadata), { namespaceId, packs }, as(session));
  const locate = (session: auth.Session, blockHashes: string[]) =>
    unary(
      stubs.metadata.locateBlocks.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, blockHashes },
      as(session),
    );
  const findMissing = async (session: auth.Session, blockHashes: string[]) =>
    (
      await unary(
        stubs.metadata.findMissingBlocks.bind(stubs.metadata),
        { namespaceId: session.rootNamespaceId, blockHashes },
        as(session),
      )
    ).missingBlockHashes;
  const commit = async (session: auth.Session, path: string, content: common.FileContent) => {
    const response = await unary(
      stubs.metadata.commitFiles.bind(stubs.metadata),
      {
        namespaceId: session.rootNamespaceId,
        changes: [
          {
            path,
            baseVersion: 0,
            content,
            delete: false,
            modifiedAtMs: 1_700_000_000_000,
            moveFrom: '',
            moveFromBaseVersion: 0,
          },
        ],
        confirmMassDelete: false,
      },
      as(session),
    );
    return response.results[0]!.outcome;
  };
  const blockItem = async (namespaceId: string, hash: string) =>
    (
      await table.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: `NS#${namespaceId}`, sk: `BLOCK#${hash}` },
          ConsistentRead: true,
        }),
      )
    ).Item;
  /** What the garbage collector writes when it finds a block unreferenced. */
  const condemn = (namespaceId: string, hash: string, atMs: number) =>
    table.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: `NS#${namespaceId}`, sk: `BLOCK#${hash}` },
        UpdateExpression: 'SET condemnedAtMs = :at',
        ExpressionAttributeValues: { ':at': atMs },
      }),
    );
  /** Writes a pack object with the session's storage credentials, without registering it. */
  const upload = async (session: auth.Session, pack: ReturnType<typeof buildPack>) => {
    const grant = await unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, as(session));
    const s3 = clientStorage(grant);
    try {
      await putPack(s3, grant.bucket, session.rootNamespaceId, pack);
    } finally {
      s3.destroy();
    }
  };

  test('a registered pack makes its blocks present, locatable by byte range and committable', async () => {
    const alice = await signUp(stubs, 'bi-register');
    const blocks = blocksOf(3);
    const hashes = blocks.map((block) => blockHash(block));
    expect(await findMissing(alice, hashes)).toEqual(hashes);

    const pack = buildPack(blocks);
    await upload(alice, pack);
    expect(await register(alice, [packMessage(pack)])).toEqual({ blocksIndexed: 3, blocksAlreadyIndexed: 0 });
    expect(await findMissing(alice, hashes)).toEqual([]);

    const absent = blockHash(randomBytes(9));
    const located = await locate(alice, [hashes[2]!, absent, hashes[0]!, hashes[2]!]);
    expect(located).toEqual({
      locations: [
        { blockHash: hashes[2], packId: pack.packId, offset: 200, length: 100 },
        { blockHash: hashes[0], packId: pack.packId, offset: 0, length: 100 },
      ],
      missingBlockHashes: [absent],
    });
    // A downloader reads the byte range and finds the block's bytes there.
    const grant = await unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, as(alice));
    const s3 = clientStorage(grant);
    try {
      const { offset, length } = located.locations[0]!;
      const object = await s3.send(
        new GetObjectCommand({
          Bucket: grant.bucket,
          Key: `ns/${alice.rootNamespaceId}/packs/${pack.packId}`,
          Range: `bytes=${offset}-${offset + length - 1}`,
        }),
      );
      const bytes = await object.Body!.transformToByteArray();
      expect(blockHash(bytes)).toBe(hashes[2]);
    } finally {
      s3.destroy();
    }

    expect((await commit(alice, 'a.bin', fileOf(blocks)))?.$case).toBe('committed');
    expect(await blockItem(alice.rootNamespaceId, hashes[1]!)).toEqual({
      pk: `NS#${alice.rootNamespaceId}`,
      sk: `BLOCK#${hashes[1]}`,
      hash: hashes[1],
      pack: pack.packId,
      offset: 100,
      length: 100,
      createdAtMs: expect.any(Number),
    });
    const packItem = await table.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: `NS#${alice.rootNamespaceId}`, sk: `PACK#${pack.packId}` },
      }),
    );
    expect(packItem.Item).toMatchObject({ packId: pack.packId, size: pack.size, dataBytes: 300, blocks: 3 });
  });

  test('a pack absent from storage or of another size is FAILED_PRECONDITION naming it, and indexes nothing', async () => {
    const bob = await signUp(stubs, 'bi-missing');
    const stored = buildPack(blocksOf(2));
    await upload(bob, stored);
    const absent = buildPack(blocksOf(2));
    const error = await callError(register(bob, [packMessage(stored), packMessage(absent)]));
    expect(error.code).toBe(9); // FAILED_PRECONDITION
    expect(trailer(error, 'filesync-missing-packs')).toBe(absent.packId);

    const wrongSize = { ...packMessage(stored), size: stored.size + 1 };
    const sized = await callError(register(bob, [wrongSize]));
    expect(sized.code).toBe(9);
    expect(trailer(sized, 'filesync-missing-packs')).toBe(stored.packId);

    const all = [...stored.entries, ...absent.entries].map((entry) => entry.hash);
    expect(await findMissing(bob, all)).toEqual(all);
    expect(
      (
        await table.send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: `NS#${bob.rootNamespaceId}`, sk: `PACK#${stored.packId}` },
          }),
        )
      ).Item,
    ).toBeUndefined();
  });

  test('registering again changes nothing, and an indexed block keeps its first location', async () => {
    const carol = await signUp(stubs, 'bi-idempotent');
    const [shared, other] = blocksOf(2);
    const first = await storeBlocks(stubs, carol, carol.rootNamespaceId, [shared!]);
    const before = await blockItem(carol.rootNamespaceId, blockHash(shared!));
    expect(await register(carol, [packMessage(first)])).toEqual({
      blocksIndexed: 0,
      blocksAlreadyIndexed: 1,
    });

    const second = buildPack([other!, shared!]);
    await upload(carol, second);
    expect(await register(carol, [packMessage(second)])).toEqual({
      blocksIndexed: 1,
      blocksAlreadyIndexed: 1,
    });
    expect(await blockItem(carol.rootNamespaceId, blockHash(shared!))).toEqual(before);
    expect((await locate(carol, [blockHash(shared!)])).locations[0]?.packId).toBe(first.packId);
  });

  test('hostile RegisterPacks and LocateBlocks requests are refused cleanly, never INTERNAL', async () => {
    const dave = await signUp(stubs, 'bi-hostile');
    const pack = buildPack(blocksOf(3, 50));
    await upload(dave, pack);
    const good = packMessage(pack);
    const withBlocks = (edit: (blocks: metadata.PackBlock[]) => void): metadata.Pack => {
      const blocks = good.blocks.map((block) => ({ ...block }));
      edit(blocks);
      return { ...good, blocks };
    };
    const hash = blockHash(randomBytes(4));
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['no packs', () => register(dave, [])],
      ['pack id not hex', () => register(dave, [{ ...good, packId: 'Z'.repeat(64) }])],
      ['pack id a path', () => register(dave, [{ ...good, packId: '../../etc/passwd' }])],
      ['size 0', () => register(dave, [{ ...good, size: 0 }])],
      ['size negative', () => register(dave, [{ ...good, size: -1 }])],
      ['size over the limit', () => register(dave, [{ ...good, size: LIMITS.maxPackBytes + 1 }])],
      ['size beyond int53', () => register(dave, [{ ...good, size: 2 ** 60 }])],
      ['no blocks', () => register(dave, [{ ...good, blocks: [] }])],
      ['block hash bad', () => register(dave, [withBlocks((b) => (b[1]!.blockHash = 'abc'))])],
      ['block length 0', () => register(dave, [withBlocks((b) => (b[0]!.length = 0))])],
      [
        'block too long',
        () => register(dave, [withBlocks((b) => (b[0]!.length = LIMITS.chunkMaxBytes + 1))]),
      ],
      ['blocks overlap', () => register(dave, [withBlocks((b) => (b[1]!.offset = 10))])],
      ['blocks out of order', () => register(dave, [withBlocks((b) => b.reverse())])],
      ['negative offset', () => register(dave, [withBlocks((b) => (b[0]!.offset = -1))])],
      ['offset beyond int53', () => register(dave, [withBlocks((b) => (b[2]!.offset = 2 ** 62))])],
      ['block in the trailer', () => register(dave, [withBlocks((b) => (b[2]!.length = 51))])],
      [
        'too many blocks in a pack',
        () =>
          register(dave, [
            {
              ...good,
              size: LIMITS.maxBlocksPerPack + 1 + packTrailerBytes(LIMITS.maxBlocksPerPack + 1),
              blocks: Array.from({ length: LIMITS.maxBlocksPerPack + 1 }, (_, index) => ({
                blockHash: hash,
                offset: index,
                length: 1,
              })),
            },
          ]),
      ],
      [
        'too many packs',
        () =>
          register(
            dave,
            Array.from({ length: LIMITS.maxPacksPerRegister + 1 }, () => good),
          ),
      ],
      ['locate a malformed hash', () => locate(dave, ['nothex'])],
      [
        'locate too many hashes',
        () =>
          locate(
            dave,
            Array.from({ length: LIMITS.maxBlockHashesPerQuery + 1 }, () => hash),
          ),
      ],
      [
        'no namespace',
        () =>
          unary(
            stubs.metadata.registerPacks.bind(stubs.metadata),
            { namespaceId: '', packs: [good] },
            as(dave),
          ),
      ],
    ];
    expect(await statusTable(cases)).toEqual(expectedTable(cases, 'INVALID_ARGUMENT'));

    const eve = await signUp(stubs, 'bi-hostile-other');
    const foreign: Array<[string, () => Promise<unknown>]> = [
      ['register in another namespace', () => register(eve, [good], dave.rootNamespaceId)],
      [
        'locate in another namespace',
        () =>
          unary(
            stubs.metadata.locateBlocks.bind(stubs.metadata),
            { namespaceId: dave.rootNamespaceId, blockHashes: [hash] },
            as(eve),
          ),
      ],
    ];
    expect(await statusTable(foreign)).toEqual(expectedTable(foreign, 'PERMISSION_DENIED'));
    // A pack of another namespace is not in this one's storage.
    expect(await statusTable([['register a pack stored elsewhere', () => register(eve, [good])]])).toEqual({
      'register a pack stored elsewhere': 'FAILED_PRECONDITION',
    });
    // Nothing of it was indexed by any of the refused calls.
    const hashes = good.blocks.map((block) => block.blockHash);
    expect(await findMissing(dave, hashes)).toEqual(hashes);
    expect(await register(dave, [good])).toEqual({ blocksIndexed: 3, blocksAlreadyIndexed: 0 });
  });

  test('blocks indexed before packs are present and located as whole objects of their own', async () => {
    const frank = await signUp(stubs, 'bi-legacy');
    const hash = blockHash(randomBytes(16));
    await table.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: `NS#${frank.rootNamespaceId}`,
          sk: `BLOCK#${hash}`,
          hash,
          verifiedAtMs: 1_600_000_000_000,
        },
      }),
    );
    expect(await findMissing(frank, [hash])).toEqual([]);
    expect(await locate(frank, [hash])).toEqual({
      locations: [{ blockHash: hash, packId: '', offset: 0, length: 0 }],
      missingBlockHashes: [],
    });
    expect(
      (await commit(frank, 'old.bin', { contentHash: contentHash([hash]), size: 16, blockHashes: [hash] }))
        ?.$case,
    ).toBe('committed');
  });

  test('a commit naming a condemned block revives it', async () => {
    const grace = await signUp(stubs, 'bi-revive-commit');
    const blocks = blocksOf(2);
    await storeBlocks(stubs, grace, grace.rootNamespaceId, blocks);
    const [kept, condemned] = blocks.map((block) => blockHash(block));
    await condemn(grace.rootNamespaceId, condemned!, 1_000);
    // Reading does not revive: FindMissingBlocks only says the block is there.
    expect(await findMissing(grace, [kept!, condemned!])).toEqual([]);
    expect((await blockItem(grace.rootNamespaceId, condemned!))?.condemnedAtMs).toBe(1_000);

    expect((await commit(grace, 'revived.bin', fileOf(blocks)))?.$case).toBe('committed');
    const item = await blockItem(grace.rootNamespaceId, condemned!);
    expect(item).toBeDefined();
    expect(item!.condemnedAtMs).toBeUndefined();
  });

  test('RegisterPacks moves a condemned block to the new pack and revives it', async () => {
    const heidi = await signUp(stubs, 'bi-revive-register');
    const block = randomBytes(64);
    const hash = blockHash(block);
    const first = await storeBlocks(stubs, heidi, heidi.rootNamespaceId, [block]);
    await condemn(heidi.rootNamespaceId, hash, 2_000);

    const second = buildPack([randomBytes(10), block]);
    await upload(heidi, second);
    expect(await register(heidi, [packMessage(second)])).toEqual({
      blocksIndexed: 2,
      blocksAlreadyIndexed: 0,
    });
    const item = await blockItem(heidi.rootNamespaceId, hash);
    expect(item).toMatchObject({ pack: second.packId, offset: 10, length: 64 });
    expect(item!.condemnedAtMs).toBeUndefined();
    expect(first.packId).not.toBe(second.packId);
  });

  test('a block whose index item was deleted is missing: the commit names it and the client uploads again', async () => {
    const ivan = await signUp(stubs, 'bi-deleted');
    const blocks = blocksOf(2);
    await storeBlocks(stubs, ivan, ivan.rootNamespaceId, blocks);
    const [, gone] = blocks.map((block) => blockHash(block));
    // The collector deleted the block (its item first, then the bytes).
    await table.send(
      new DeleteCommand({
        TableName: tableName,
        Key: { pk: `NS#${ivan.rootNamespaceId}`, sk: `BLOCK#${gone}` },
      }),
    );
    expect(
      await findMissing(
        ivan,
        blocks.map((block) => blockHash(block)),
      ),
    ).toEqual([gone]);
    expect(await commit(ivan, 'b.bin', fileOf(blocks))).toEqual({
      $case: 'missingBlocks',
      value: { blockHashes: [gone] },
    });
    // A commit of a condemned block the collector deletes first: the same answer.
    await condemn(ivan.rootNamespaceId, blockHash(blocks[0]!), 3_000);
    await table.send(
      new DeleteCommand({
        TableName: tableName,
        Key: { pk: `NS#${ivan.rootNamespaceId}`, sk: `BLOCK#${blockHash(blocks[0]!)}` },
      }),
    );
    await storeBlocks(stubs, ivan, ivan.rootNamespaceId, [blocks[1]!]);
    expect(await commit(ivan, 'b.bin', fileOf(blocks))).toEqual({
      $case: 'missingBlocks',
      value: { blockHashes: [blockHash(blocks[0]!)] },
    });
    await storeBlocks(stubs, ivan, ivan.rootNamespaceId, [blocks[0]!]);
    expect((await commit(ivan, 'b.bin', fileOf(blocks)))?.$case).toBe('committed');
  });
});

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { auth, common } from '@filesync/contracts';
import { LOCAL_CREDENTIALS } from '@filesync/local-stack';
import { blockKey, GARBAGE_COLLECTION, namespaceKeyPrefix, packsPrefix } from '@filesync/resources';
import { blockHash, contentHash } from '@filesync/sync-core';
import {
  as,
  buildPack,
  clientStorage,
  connectStubs,
  putPack,
  signUp,
  storeBlocks,
  type Stubs,
  unary,
} from '@filesync/test-support';
import { nodeBinary, repoRootOf } from '@filesync/test-support/runner';
import { emulatorS3, readTestStack } from './support/harness';

// Issue 7: the storage garbage collector, run as the command the scheduled task runs (the metadata
// service's dist/services/metadata/gc.mjs bundle) against DynamoDB Local and moto. Files are
// stored and committed through the real RPCs (RegisterPacks, CommitFiles) and read back the way a
// downloader does (LocateBlocks, ranged GETs, every block's hash checked). Grace 0, and two runs
// where the collector's two phases need them.

const stack = readTestStack();
const root = repoRootOf();

interface Report {
  namespaces: number;
  blocksCondemned: number;
  blocksRevived: number;
  blocksDeleted: number;
  packsDeleted: number;
  packsRewritten: number;
  packsWritten: number;
  blocksMoved: number;
  blockListsCondemned: number;
  blockListsDeleted: number;
  orphanPacksDeleted: number;
  orphanBlocksDeleted: number;
  bytesFreed: number;
  errors: { namespaceId: string; message: string }[];
}

/** One run of the collector over one namespace; resolves with its --json report. */
async function collect(namespaceId: string, ...flags: string[]): Promise<Report> {
  const { stdout } = await promisify(execFile)(
    nodeBinary(root),
    [join(root, 'dist', 'services', 'metadata', 'gc.mjs'), '--json', '--namespace', namespaceId, ...flags],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: stack.resources.region,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL: stack.emulators.moto,
        AWS_ENDPOINT_URL_DYNAMODB: stack.emulators.dynamodb,
        FILESYNC_METADATA_TABLE: stack.resources.tables.metadata,
        FILESYNC_BLOCKS_BUCKET: stack.resources.bucket,
        FILESYNC_S3_FORCE_PATH_STYLE: 'true',
        FILESYNC_LOG_LEVEL: 'warn',
        [GARBAGE_COLLECTION.graceEnvVar]: '0',
      },
    },
  );
  return JSON.parse(stdout) as Report;
}

describe('issue 7 storage garbage collection', () => {
  let stubs: Stubs;
  let table: DynamoDBDocumentClient;
  let s3: S3Client;
  const tableName = stack.resources.tables.metadata;
  const bucket = stack.resources.bucket;

  beforeAll(() => {
    stubs = connectStubs(stack);
    table = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: stack.resources.region,
        endpoint: stack.emulators.dynamodb,
        credentials: LOCAL_CREDENTIALS,
      }),
    );
    s3 = emulatorS3(stack);
  });
  afterAll(() => {
    stubs?.close();
    table?.destroy();
    s3?.destroy();
  });

  const blocksOf = (count: number, bytes = 1000) => Array.from({ length: count }, () => randomBytes(bytes));
  const fileOf = (blocks: readonly Uint8Array[]): common.FileContent => {
    const blockHashes = blocks.map((block) => blockHash(block));
    return {
      contentHash: contentHash(blockHashes),
      size: blocks.reduce((sum, block) => sum + block.byteLength, 0),
      blockHashes,
    };
  };
  const commitFiles = async (
    session: auth.Session,
    changes: { path: string; content?: common.FileContent; baseVersion?: number }[],
  ) => {
    const response = await unary(
      stubs.metadata.commitFiles.bind(stubs.metadata),
      {
        namespaceId: session.rootNamespaceId,
        changes: changes.map((change) => ({
          path: change.path,
          baseVersion: change.baseVersion ?? 0,
          content: change.content,
          delete: change.content === undefined,
          moveFrom: '',
          moveFromBaseVersion: 0,
          modifiedAtMs: 1_700_000_000_000,
        })),
        confirmMassDelete: true,
      },
      as(session),
    );
    return response.results.map((result) => {
      if (result.outcome?.$case !== 'committed')
        throw new Error(`${result.path}: ${JSON.stringify(result.outcome)}`);
      return result.outcome.value.version;
    });
  };

  /** Downloads a file's blocks as a client does and answers its bytes; throws on a missing or bad block. */
  const download = async (session: auth.Session, content: common.FileContent): Promise<Buffer> => {
    const located = await unary(
      stubs.metadata.locateBlocks.bind(stubs.metadata),
      { namespaceId: session.rootNamespaceId, blockHashes: content.blockHashes },
      as(session),
    );
    expect(located.missingBlockHashes).toEqual([]);
    const grant = await unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, as(session));
    const client = clientStorage(grant);
    try {
      const byHash = new Map(located.locations.map((location) => [location.blockHash, location]));
      const parts: Buffer[] = [];
      for (const hash of content.blockHashes) {
        const location = byHash.get(hash)!;
        const output = await client.send(
          new GetObjectCommand({
            Bucket: grant.bucket,
            Key: location.packId
              ? `${packsPrefix(session.rootNamespaceId)}${location.packId}`
              : blockKey(session.rootNamespaceId, hash),
            ...(location.length > 0
              ? { Range: `bytes=${location.offset}-${location.offset + location.length - 1}` }
              : {}),
          }),
        );
        const bytes = Buffer.from(await output.Body!.transformToByteArray());
        expect(blockHash(bytes)).toBe(hash);
        parts.push(bytes);
      }
      return Buffer.concat(parts);
    } finally {
      client.destroy();
    }
  };

  const objectsOf = async (namespaceId: string): Promise<string[]> => {
    const prefix = namespaceKeyPrefix(namespaceId);
    const output = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (output.Contents ?? []).map((object) => object.Key!.slice(prefix.length)).sort();
  };
  const itemsOf = async (namespaceId: string, prefix: string) =>
    (
      await table.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `NS#${namespaceId}`, ':prefix': prefix },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
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
  const findMissing = async (session: auth.Session, blockHashes: string[]) =>
    (
      await unary(
        stubs.metadata.findMissingBlocks.bind(stubs.metadata),
        { namespaceId: session.rootNamespaceId, blockHashes },
        as(session),
      )
    ).missingBlockHashes;

  test('deletes blocks and packs nothing references, one grace after condemning them, and keeps what files use', async () => {
    const alice = await signUp(stubs, 'gc-delete');
    const ns = alice.rootNamespaceId;
    const used = blocksOf(2);
    const kept = await storeBlocks(stubs, alice, ns, used);
    const unusedBlocks = blocksOf(2);
    const unused = await storeBlocks(stubs, alice, ns, unusedBlocks);
    const file = fileOf(used);
    await commitFiles(alice, [{ path: 'kept.bin', content: file }]);

    const first = await collect(ns);
    expect(first).toMatchObject({
      namespaces: 1,
      blocksCondemned: 2,
      blocksDeleted: 0,
      packsDeleted: 0,
      errors: [],
    });
    expect(await objectsOf(ns)).toEqual([`packs/${kept.packId}`, `packs/${unused.packId}`].sort());

    const second = await collect(ns);
    expect(second).toMatchObject({ blocksDeleted: 2, packsDeleted: 1, bytesFreed: unused.size, errors: [] });
    expect(await objectsOf(ns)).toEqual([`packs/${kept.packId}`]);
    expect(await itemsOf(ns, 'PACK#')).toHaveLength(1);
    const unusedHashes = unusedBlocks.map((block) => blockHash(block));
    expect(await findMissing(alice, unusedHashes)).toEqual(unusedHashes);
    expect((await download(alice, file)).equals(Buffer.concat(used))).toBe(true);
  });

  test('THE RACE: a commit that reuses a block the collector condemned keeps it and its pack, and the file downloads byte-identical', async () => {
    const bob = await signUp(stubs, 'gc-race');
    const ns = bob.rootNamespaceId;
    const blocks = blocksOf(2);
    const [reused, dropped] = blocks.map((block) => blockHash(block));
    const pack = await storeBlocks(stubs, bob, ns, blocks);

    // Nothing references either block yet: both are condemned.
    expect(await collect(ns)).toMatchObject({ blocksCondemned: 2 });
    const condemnedAtMs = (await blockItem(ns, reused!))?.condemnedAtMs;
    expect(typeof condemnedAtMs).toBe('number');

    // The commit names a condemned block: it revives it (clearing the mark the collector would
    // have to see unchanged to delete it) before its transaction.
    const file = fileOf([blocks[0]!]);
    await commitFiles(bob, [{ path: 'reused.bin', content: file }]);
    expect((await blockItem(ns, reused!))?.condemnedAtMs).toBeUndefined();

    // The collector's second phase deletes only what stayed condemned: the other block.
    const second = await collect(ns);
    expect(second).toMatchObject({ blocksDeleted: 1, packsDeleted: 0, errors: [] });
    expect(await blockItem(ns, reused!)).toMatchObject({ pack: pack.packId });
    expect(await blockItem(ns, dropped!)).toBeUndefined();
    expect(await objectsOf(ns)).toEqual([`packs/${pack.packId}`]);
    expect((await download(bob, file)).equals(blocks[0]!)).toBe(true);

    // And later runs keep it for as long as the file exists.
    expect(await collect(ns)).toMatchObject({ blocksCondemned: 0, blocksDeleted: 0, packsDeleted: 0 });
    expect((await download(bob, file)).equals(blocks[0]!)).toBe(true);
  });

  test('rewrites a mostly-garbage pack: every live block moves to a new pack and still downloads verified; the old pack goes a run later', async () => {
    const carol = await signUp(stubs, 'gc-rewrite');
    const ns = carol.rootNamespaceId;
    const blocks = blocksOf(10);
    const old = await storeBlocks(stubs, carol, ns, blocks);
    const files = [fileOf(blocks.slice(0, 2)), fileOf([blocks[5]!])];
    await commitFiles(carol, [
      { path: 'a.bin', content: files[0]! },
      { path: 'b.bin', content: files[1]! },
    ]);

    const first = await collect(ns);
    expect(first).toMatchObject({
      blocksCondemned: 7,
      packsRewritten: 1,
      packsWritten: 1,
      blocksMoved: 3,
      errors: [],
    });
    const moved = await blockItem(ns, blockHash(blocks[0]!));
    expect(moved?.pack).not.toBe(old.packId);
    // Both packs exist until the next run: a download that located a block before the move still reads it.
    expect(await objectsOf(ns)).toEqual([`packs/${moved!.pack}`, `packs/${old.packId}`].sort());
    expect((await download(carol, files[0]!)).equals(Buffer.concat(blocks.slice(0, 2)))).toBe(true);
    expect((await download(carol, files[1]!)).equals(blocks[5]!)).toBe(true);

    const second = await collect(ns);
    expect(second).toMatchObject({ blocksDeleted: 7, packsDeleted: 1, packsRewritten: 0, errors: [] });
    expect(await objectsOf(ns)).toEqual([`packs/${moved!.pack}`]);
    const newPack = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `${packsPrefix(ns)}${moved!.pack}` }),
    );
    const packBytes = Buffer.from(await newPack.Body!.transformToByteArray());
    expect(blockHash(packBytes)).toBe(moved!.pack); // A pack's id is the SHA-256 of its bytes.
    expect((await download(carol, files[0]!)).equals(Buffer.concat(blocks.slice(0, 2)))).toBe(true);
    expect((await download(carol, files[1]!)).equals(blocks[5]!)).toBe(true);
  });

  test('removes orphans: a pack object never registered, a legacy block object without an item, an unreferenced block list', async () => {
    const dave = await signUp(stubs, 'gc-orphans');
    const ns = dave.rootNamespaceId;
    const liveBlocks = blocksOf(1);
    const live = await storeBlocks(stubs, dave, ns, liveBlocks);
    // A client that crashed between its PUT and RegisterPacks.
    const crashed = buildPack(blocksOf(3));
    const grant = await unary(stubs.auth.getStorageCredentials.bind(stubs.auth), {}, as(dave));
    const client = clientStorage(grant);
    try {
      await putPack(client, grant.bucket, ns, crashed);
    } finally {
      client.destroy();
    }
    // A block object of the pre-pack layout nothing indexes, and a block list nothing references.
    const legacy = randomBytes(500);
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: blockKey(ns, blockHash(legacy)), Body: legacy }),
    );
    await table.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: `NS#${ns}`, sk: `BLOCKLIST#${'c'.repeat(64)}#000000`, hashes: randomBytes(64) },
      }),
    );
    await commitFiles(dave, [{ path: 'live.bin', content: fileOf(liveBlocks) }]);

    const dry = await collect(ns, '--dry-run');
    expect(dry).toMatchObject({ orphanPacksDeleted: 1, orphanBlocksDeleted: 1, blockListsCondemned: 1 });
    expect(await objectsOf(ns)).toHaveLength(3);

    const first = await collect(ns);
    expect(first).toMatchObject({
      orphanPacksDeleted: 1,
      orphanBlocksDeleted: 1,
      blockListsCondemned: 1,
      bytesFreed: crashed.size + legacy.byteLength,
      errors: [],
    });
    expect(await objectsOf(ns)).toEqual([`packs/${live.packId}`]);
    expect(await collect(ns)).toMatchObject({ blockListsDeleted: 1 });
    expect(await itemsOf(ns, 'BLOCKLIST#')).toEqual([]);
  });

  test('with retention 0 (every superseded version expired), leaves only the objects current files need, all downloadable', async () => {
    const erin = await signUp(stubs, 'gc-retention');
    const ns = erin.rootNamespaceId;
    const contents = Array.from({ length: 6 }, () => blocksOf(2));
    const packs = [];
    for (const blocks of contents) packs.push(await storeBlocks(stubs, erin, ns, blocks));
    const paths = contents.map((_, index) => `f${index}.bin`);
    const versions = await commitFiles(
      erin,
      contents.map((blocks, index) => ({ path: paths[index]!, content: fileOf(blocks) })),
    );
    // Delete half the files.
    await commitFiles(
      erin,
      [0, 1, 2].map((index) => ({ path: paths[index]!, baseVersion: versions[index]! })),
    );
    // Retention 0: every version item expired the moment it was written (the TTL attribute, Unix
    // seconds; DynamoDB Local never deletes, readers and the collector treat it as gone).
    const expiredAt = Math.floor(Date.now() / 1000) - 1;
    for (const item of await itemsOf(ns, 'VER#')) {
      await table.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: item.pk, sk: item.sk },
          UpdateExpression: 'SET expiresAt = :at',
          ExpressionAttributeValues: { ':at': expiredAt },
        }),
      );
    }

    await collect(ns);
    const second = await collect(ns);
    expect(second).toMatchObject({ blocksDeleted: 6, packsDeleted: 3, errors: [] });
    const needed = packs.slice(3).map((pack) => `packs/${pack.packId}`);
    expect(await objectsOf(ns)).toEqual(needed.sort());
    for (const index of [3, 4, 5]) {
      expect((await download(erin, fileOf(contents[index]!))).equals(Buffer.concat(contents[index]!))).toBe(
        true,
      );
    }
    // A third run finds nothing more to do.
    expect(await collect(ns)).toMatchObject({
      blocksCondemned: 0,
      blocksDeleted: 0,
      packsDeleted: 0,
      orphanPacksDeleted: 0,
    });
  });
});

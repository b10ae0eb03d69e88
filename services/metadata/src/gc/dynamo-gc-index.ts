import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { blockItemKey, blockListKey, FILE_PREFIX, HEAD_KEY, nsKey, packItemKey } from '../adapters/keys';
import type {
  BlockListPartRecord,
  BlockLocation,
  BlockRecord,
  GcIndex,
  PackRecord,
  ReferencingEntry,
} from './ports';

type Item = Record<string, any>;

const NS_PREFIX = 'NS#';
const VERSION_PREFIX = 'VER#';
const BLOCK_PREFIX = 'BLOCK#';
const PACK_PREFIX = 'PACK#';
const BLOCK_LIST_PREFIX = 'BLOCKLIST#';
const HASH_BYTES = 32;
const GET_BATCH = 100;
const MAX_ROUNDS = 8;

/**
 * The metadata table for the collector (layout: COMMON.md of issue 7). Reads are strongly
 * consistent: the collector's safety argument needs a scan that sees every commit before it began.
 * Conditional writes answer false when their condition failed.
 */
export class DynamoGcIndex implements GcIndex {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** A full scan for HEAD items: a background job may pay O(table) once per run. */
  async *namespaces(): AsyncIterable<string> {
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        FilterExpression: 'sk = :head',
        ProjectionExpression: 'pk',
        ExpressionAttributeValues: { ':head': HEAD_KEY },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const pk = String(item.pk);
        if (pk.startsWith(NS_PREFIX)) yield pk.slice(NS_PREFIX.length);
      }
    }
  }

  private async *query(namespaceId: string, prefix: string, projection: string[]): AsyncIterable<Item> {
    const names = Object.fromEntries(projection.map((name) => [`#${name}`, name]));
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': nsKey(namespaceId), ':prefix': prefix },
        ProjectionExpression: Object.keys(names).join(', '),
        ExpressionAttributeNames: names,
        ConsistentRead: true,
      },
    );
    for await (const page of pages) yield* page.Items ?? [];
  }

  async *referencingEntries(namespaceId: string): AsyncIterable<ReferencingEntry> {
    const projection = ['sk', 'deleted', 'blockHashes', 'blockListParts', 'contentHash', 'expiresAt'];
    for (const [kind, prefix] of [
      ['file', FILE_PREFIX],
      ['version', VERSION_PREFIX],
    ] as const) {
      for await (const item of this.query(namespaceId, prefix, projection)) {
        if (item.deleted === true) continue; // A tombstone names no blocks.
        const parts = typeof item.blockListParts === 'number' ? item.blockListParts : 0;
        if (!Array.isArray(item.blockHashes) && parts === 0) {
          // A layout this reader does not know: collecting around it could delete its blocks.
          throw new Error(`${String(item.sk)} names its blocks in a way the collector does not read`);
        }
        yield {
          kind,
          ...(typeof item.expiresAt === 'number' ? { expiresAt: item.expiresAt } : {}),
          blockHashes: Array.isArray(item.blockHashes) ? item.blockHashes.map(String) : [],
          ...(parts > 0 ? { blockList: { contentHash: String(item.contentHash), parts } } : {}),
        };
      }
    }
  }

  async blockList(namespaceId: string, contentHash: string, parts: number): Promise<string[]> {
    const pk = nsKey(namespaceId);
    const keys = Array.from({ length: parts }, (_, index) => ({ pk, sk: blockListKey(contentHash, index) }));
    const found = new Map<string, Uint8Array>();
    for (let start = 0; start < keys.length; start += GET_BATCH) {
      let pending: Item[] = keys.slice(start, start + GET_BATCH);
      for (let round = 0; pending.length > 0; round += 1) {
        if (round >= MAX_ROUNDS) throw new Error('the metadata table keeps throttling block-list reads');
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const output = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        for (const item of output.Responses?.[this.tableName] ?? []) {
          found.set(String(item.sk), item.hashes as Uint8Array);
        }
        pending = output.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    const hashes: string[] = [];
    for (const key of keys) {
      const part = found.get(key.sk);
      if (!part) throw new Error(`block list ${contentHash} lacks part ${key.sk.slice(-6)}`);
      const bytes = Buffer.from(part);
      for (let offset = 0; offset < bytes.length; offset += HASH_BYTES) {
        hashes.push(bytes.subarray(offset, offset + HASH_BYTES).toString('hex'));
      }
    }
    return hashes;
  }

  async *blocks(namespaceId: string): AsyncIterable<BlockRecord> {
    const projection = ['hash', 'pack', 'offset', 'length', 'createdAtMs', 'verifiedAtMs', 'condemnedAtMs'];
    for await (const item of this.query(namespaceId, BLOCK_PREFIX, projection)) {
      yield {
        hash: String(item.hash),
        ...(typeof item.pack === 'string' && item.pack !== '' ? { pack: item.pack } : {}),
        ...(typeof item.offset === 'number' ? { offset: item.offset } : {}),
        ...(typeof item.length === 'number' ? { length: item.length } : {}),
        // Items written before packs have only verifiedAtMs; an item with neither is treated as
        // created now, so it is never condemned by this run.
        createdAtMs: Number(item.createdAtMs ?? item.verifiedAtMs ?? Date.now()),
        ...(typeof item.condemnedAtMs === 'number' ? { condemnedAtMs: item.condemnedAtMs } : {}),
      };
    }
  }

  async *packs(namespaceId: string): AsyncIterable<PackRecord> {
    const projection = ['packId', 'size', 'dataBytes', 'blocks', 'createdAtMs', 'retiredAtMs'];
    for await (const item of this.query(namespaceId, PACK_PREFIX, projection)) {
      yield {
        packId: String(item.packId),
        size: Number(item.size ?? 0),
        dataBytes: Number(item.dataBytes ?? 0),
        blocks: Number(item.blocks ?? 0),
        createdAtMs: Number(item.createdAtMs ?? Date.now()),
        ...(typeof item.retiredAtMs === 'number' ? { retiredAtMs: item.retiredAtMs } : {}),
      };
    }
  }

  async *blockListParts(namespaceId: string): AsyncIterable<BlockListPartRecord> {
    for await (const item of this.query(namespaceId, BLOCK_LIST_PREFIX, ['sk', 'condemnedAtMs'])) {
      // BLOCKLIST#<contentHash>#<index, six digits>
      const rest = String(item.sk).slice(BLOCK_LIST_PREFIX.length);
      const cut = rest.lastIndexOf('#');
      yield {
        contentHash: rest.slice(0, cut),
        index: Number(rest.slice(cut + 1)),
        ...(typeof item.condemnedAtMs === 'number' ? { condemnedAtMs: item.condemnedAtMs } : {}),
      };
    }
  }

  async hasPack(namespaceId: string, packId: string): Promise<boolean> {
    const output = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: nsKey(namespaceId), sk: packItemKey(packId) },
        ProjectionExpression: 'pk',
        ConsistentRead: true,
      }),
    );
    return output.Item !== undefined;
  }

  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  private condemn(key: { pk: string; sk: string }, atMs: number): Promise<boolean> {
    return this.conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET condemnedAtMs = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(condemnedAtMs)',
          ExpressionAttributeValues: { ':at': atMs },
        }),
      ),
    );
  }

  private revive(key: { pk: string; sk: string }, seen: number): Promise<boolean> {
    return this.conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'REMOVE condemnedAtMs',
          ConditionExpression: 'condemnedAtMs = :seen',
          ExpressionAttributeValues: { ':seen': seen },
        }),
      ),
    );
  }

  private deleteCondemned(key: { pk: string; sk: string }, seen: number): Promise<boolean> {
    return this.conditional(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: 'condemnedAtMs = :seen',
          ExpressionAttributeValues: { ':seen': seen },
        }),
      ),
    );
  }

  private blockKeyOf(namespaceId: string, hash: string) {
    return { pk: nsKey(namespaceId), sk: blockItemKey(hash) };
  }

  private partKeyOf(namespaceId: string, part: BlockListPartRecord) {
    return { pk: nsKey(namespaceId), sk: blockListKey(part.contentHash, part.index) };
  }

  condemnBlock(namespaceId: string, hash: string, atMs: number): Promise<boolean> {
    return this.condemn(this.blockKeyOf(namespaceId, hash), atMs);
  }

  reviveBlock(namespaceId: string, hash: string, seen: number): Promise<boolean> {
    return this.revive(this.blockKeyOf(namespaceId, hash), seen);
  }

  deleteBlock(namespaceId: string, hash: string, seen: number): Promise<boolean> {
    return this.deleteCondemned(this.blockKeyOf(namespaceId, hash), seen);
  }

  moveBlock(namespaceId: string, hash: string, fromPack: string, to: BlockLocation): Promise<boolean> {
    return this.conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.blockKeyOf(namespaceId, hash),
          UpdateExpression: 'SET #pack = :to, #offset = :offset, #length = :length',
          ConditionExpression: '#pack = :from AND attribute_not_exists(condemnedAtMs)',
          ExpressionAttributeNames: { '#pack': 'pack', '#offset': 'offset', '#length': 'length' },
          ExpressionAttributeValues: {
            ':to': to.pack,
            ':offset': to.offset,
            ':length': to.length,
            ':from': fromPack,
          },
        }),
      ),
    );
  }

  async putPack(namespaceId: string, pack: PackRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: nsKey(namespaceId), sk: packItemKey(pack.packId), ...pack },
      }),
    );
  }

  async retirePack(namespaceId: string, packId: string, atMs: number): Promise<void> {
    // A pack deleted meanwhile needs no retirement.
    await this.conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: nsKey(namespaceId), sk: packItemKey(packId) },
          UpdateExpression: 'SET retiredAtMs = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': atMs },
        }),
      ),
    );
  }

  deletePack(namespaceId: string, pack: PackRecord): Promise<boolean> {
    const retired =
      pack.retiredAtMs === undefined ? 'attribute_not_exists(retiredAtMs)' : 'retiredAtMs = :retired';
    return this.conditional(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: nsKey(namespaceId), sk: packItemKey(pack.packId) },
          ConditionExpression: `createdAtMs = :created AND ${retired}`,
          ExpressionAttributeValues: {
            ':created': pack.createdAtMs,
            ...(pack.retiredAtMs === undefined ? {} : { ':retired': pack.retiredAtMs }),
          },
        }),
      ),
    );
  }

  condemnBlockListPart(namespaceId: string, part: BlockListPartRecord, atMs: number): Promise<boolean> {
    return this.condemn(this.partKeyOf(namespaceId, part), atMs);
  }

  reviveBlockListPart(namespaceId: string, part: BlockListPartRecord, seen: number): Promise<boolean> {
    return this.revive(this.partKeyOf(namespaceId, part), seen);
  }

  deleteBlockListPart(namespaceId: string, part: BlockListPartRecord, seen: number): Promise<boolean> {
    return this.deleteCondemned(this.partKeyOf(namespaceId, part), seen);
  }
}

import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BlockIndex, BlockRecord, IndexOutcome, PackRecord, PackedBlock } from '../domain/ports';
import { batchGetAll, batchWriteAll, type Item } from './dynamo-batch';
import { blockItemKey, nsKey, packItemKey } from './keys';

/**
 * The block index in the metadata table: `BLOCK#<hash>` items
 * `{ hash, pack?, offset, length, createdAtMs, condemnedAtMs? }` and `PACK#<packId>` items
 * `{ packId, size, dataBytes, blocks, createdAtMs, retiredAtMs? }` below `NS#<namespace>`.
 * Items written before packs (`{ hash, verifiedAtMs }`) read as blocks stored as objects of their own.
 */
export class DynamoBlockIndex implements BlockIndex {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async lookup(namespaceId: string, hashes: readonly string[]): Promise<Map<string, BlockRecord>> {
    const pk = nsKey(namespaceId);
    const items = await batchGetAll(
      this.client,
      this.tableName,
      hashes.map((hash) => ({ pk, sk: blockItemKey(hash) })),
    );
    return new Map(items.map((item) => [String(item.hash), toRecord(item)]));
  }

  async revive(
    namespaceId: string,
    hash: string,
    seenCondemnedAtMs: number,
  ): Promise<BlockRecord | undefined> {
    try {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: nsKey(namespaceId), sk: blockItemKey(hash) },
          UpdateExpression: 'REMOVE condemnedAtMs',
          ConditionExpression: 'condemnedAtMs = :seen',
          ExpressionAttributeValues: { ':seen': seenCondemnedAtMs },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(output.Attributes!);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.lookup(namespaceId, [hash])).get(hash);
    }
  }

  async putPack(namespaceId: string, pack: PackRecord): Promise<void> {
    // An update, not a put: registering a pack again keeps its first creation time, and clears a
    // retirement, because someone relies on the object again.
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: nsKey(namespaceId), sk: packItemKey(pack.packId) },
        UpdateExpression:
          'SET #packId = :packId, #size = :size, #dataBytes = :dataBytes, #blocks = :blocks, ' +
          '#createdAtMs = if_not_exists(#createdAtMs, :createdAtMs) REMOVE #retiredAtMs',
        ExpressionAttributeNames: {
          '#packId': 'packId',
          '#size': 'size',
          '#dataBytes': 'dataBytes',
          '#blocks': 'blocks',
          '#createdAtMs': 'createdAtMs',
          '#retiredAtMs': 'retiredAtMs',
        },
        ExpressionAttributeValues: {
          ':packId': pack.packId,
          ':size': pack.size,
          ':dataBytes': pack.dataBytes,
          ':blocks': pack.blocks,
          ':createdAtMs': pack.createdAtMs,
        },
      }),
    );
  }

  /**
   * Reads which blocks are indexed, then writes the others with batch writes, not conditional
   * transaction items: on DynamoDB a transaction item costs twice the write capacity, and on
   * DynamoDB Local 10,000 of them competed with the commits they were meant to unblock. Two
   * registrations of one new block at once may both write it; the later location stands, and
   * both are packs RegisterPacks checked in storage, so either holds the block (the other copy
   * is garbage the collector finds).
   */
  async addBlocks(
    namespaceId: string,
    blocks: readonly PackedBlock[],
    nowMs: number,
  ): Promise<IndexOutcome[]> {
    const existing = await this.lookup(
      namespaceId,
      blocks.map((block) => block.hash),
    );
    const pk = nsKey(namespaceId);
    await batchWriteAll(
      this.client,
      this.tableName,
      blocks
        .filter((block) => !existing.has(block.hash))
        .map((block) => ({ PutRequest: { Item: blockItem(pk, block, nowMs) } })),
    );
    return blocks.map((block) => {
      const record = existing.get(block.hash);
      return record ? { kind: 'exists', existing: record } : { kind: 'indexed' };
    });
  }

  async relocate(
    namespaceId: string,
    block: PackedBlock,
    seenCondemnedAtMs: number,
    nowMs: number,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: blockItem(nsKey(namespaceId), block, nowMs),
          ConditionExpression: 'condemnedAtMs = :seen',
          ExpressionAttributeValues: { ':seen': seenCondemnedAtMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

function blockItem(pk: string, block: PackedBlock, nowMs: number): Item {
  return {
    pk,
    sk: blockItemKey(block.hash),
    hash: block.hash,
    pack: block.packId,
    offset: block.offset,
    length: block.length,
    createdAtMs: nowMs,
  };
}

function toRecord(item: Item): BlockRecord {
  const packed = typeof item.pack === 'string';
  return {
    hash: String(item.hash),
    packId: packed ? item.pack : undefined,
    offset: packed ? Number(item.offset ?? 0) : 0,
    // Items written before packs know no length: the block is its whole object.
    length: packed ? Number(item.length ?? 0) : 0,
    createdAtMs: Number(item.createdAtMs ?? item.verifiedAtMs ?? 0),
    condemnedAtMs: typeof item.condemnedAtMs === 'number' ? item.condemnedAtMs : undefined,
  };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

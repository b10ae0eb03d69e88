import {
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { unavailable } from '@filesync/server-kit';
import type { BlockIndex, BlockRecord, IndexOutcome, PackRecord, PackedBlock } from '../domain/ports';
import { batchGetAll, type Item } from './dynamo-batch';
import { blockItemKey, nsKey, packItemKey } from './keys';

/** DynamoDB's limit of items per transaction. */
const TRANSACTION_ITEMS = 100;
const PARALLEL_TRANSACTIONS = 4;
/** Rounds of a block lost to a concurrent writer before the call gives up (each needs another writer). */
const MAX_ROUNDS = 8;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

  async addBlocks(
    namespaceId: string,
    blocks: readonly PackedBlock[],
    nowMs: number,
  ): Promise<IndexOutcome[]> {
    const outcomes = new Map<string, IndexOutcome>();
    let pending = [...blocks];
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= MAX_ROUNDS) throw unavailable('the block index is busy: retry shortly');
      if (round > 0) await sleep(Math.min(1_000, 25 * 2 ** round));
      // A client registers the blocks FindMissingBlocks said were missing, so the first round
      // writes without reading; a round after a cancelled transaction reads what is there now.
      const existing =
        round === 0
          ? new Map<string, BlockRecord>()
          : await this.lookup(
              namespaceId,
              pending.map((block) => block.hash),
            );
      for (const block of pending) {
        const record = existing.get(block.hash);
        if (record) outcomes.set(block.hash, { kind: 'exists', existing: record });
      }
      const absent = pending.filter((block) => !existing.has(block.hash));
      const limit = pLimit(PARALLEL_TRANSACTIONS);
      const lost = await Promise.all(
        chunks(absent, TRANSACTION_ITEMS).map((batch) =>
          limit(() => this.putAbsent(namespaceId, batch, nowMs)),
        ),
      );
      const retry = new Set(lost.flat());
      for (const block of absent) if (!retry.has(block.hash)) outcomes.set(block.hash, { kind: 'indexed' });
      pending = absent.filter((block) => retry.has(block.hash));
    }
    return blocks.map((block) => outcomes.get(block.hash)!);
  }

  /** Puts the blocks if absent, all or nothing; returns the hashes to try again (all of them, or none). */
  private async putAbsent(
    namespaceId: string,
    blocks: readonly PackedBlock[],
    nowMs: number,
  ): Promise<string[]> {
    const pk = nsKey(namespaceId);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: blocks.map((block) => ({
            Put: {
              TableName: this.tableName,
              Item: blockItem(pk, block, nowMs),
              // An indexed block keeps its location: its stored copy is what commits relied on.
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          })),
        }),
      );
      return [];
    } catch (error) {
      // A concurrent registration indexed one of them, or touched the same items: the next round
      // reads what is there now.
      if (error instanceof Error && error.name === 'TransactionCanceledException') {
        return blocks.map((block) => block.hash);
      }
      throw error;
    }
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

function chunks<T>(values: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < values.length; index += size) result.push(values.slice(index, index + size));
  return result;
}

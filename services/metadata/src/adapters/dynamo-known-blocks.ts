import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KnownBlocks } from '../domain/ports';
import { batchGetAll, batchWriteAll } from './dynamo-batch';
import { blockItemKey, nsKey } from './keys';

/** `BLOCK#<hash>` items of the metadata table: blocks already verified present in S3. */
export class DynamoKnownBlocks implements KnownBlocks {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async known(namespaceId: string, hashes: readonly string[]): Promise<Set<string>> {
    const pk = nsKey(namespaceId);
    const items = await batchGetAll(
      this.client,
      this.tableName,
      hashes.map((hash) => ({ pk, sk: blockItemKey(hash) })),
      // HASH is a DynamoDB reserved word, hence the placeholder.
      { expression: '#hash', names: { '#hash': 'hash' } },
    );
    return new Set(items.map((item) => String(item.hash)));
  }

  async remember(namespaceId: string, hashes: readonly string[]): Promise<void> {
    const pk = nsKey(namespaceId);
    const verifiedAtMs = Date.now();
    await batchWriteAll(
      this.client,
      this.tableName,
      [...new Set(hashes)].map((hash) => ({
        PutRequest: { Item: { pk, sk: blockItemKey(hash), hash, verifiedAtMs } },
      })),
    );
  }
}

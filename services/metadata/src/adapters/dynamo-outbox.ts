import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Outbox, OutboxMessage } from '../relay/outbox-relay';
import { batchWriteAll } from './dynamo-batch';

/** The outbox table: one item per committed transaction, keyed `EVENT#<eventId>` / `EVENT`. */
export class DynamoOutbox implements Outbox {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async pending(limit: number): Promise<OutboxMessage[]> {
    const messages: OutboxMessage[] = [];
    let start: Record<string, any> | undefined;
    do {
      const output = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          Limit: limit - messages.length,
          ProjectionExpression: '#pk, #body',
          ExpressionAttributeNames: { '#pk': 'pk', '#body': 'body' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of output.Items ?? []) {
        if (typeof item.pk === 'string' && typeof item.body === 'string') {
          messages.push({ id: item.pk, body: item.body });
        }
      }
      start = output.LastEvaluatedKey;
    } while (start && messages.length < limit);
    return messages;
  }

  async remove(ids: readonly string[]): Promise<void> {
    await batchWriteAll(
      this.client,
      this.tableName,
      ids.map((pk) => ({ DeleteRequest: { Key: { pk, sk: 'EVENT' } } })),
    );
  }
}

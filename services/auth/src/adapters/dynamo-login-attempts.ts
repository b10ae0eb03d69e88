import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { LoginAttemptStore, LoginFailures } from '../domain/ports';
import { isConditionFailure, keys } from './dynamo-keys';

export class DynamoLoginAttemptStore implements LoginAttemptStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(email: string): Promise<LoginFailures | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.loginFailures(email), ConsistentRead: true }),
    );
    return Item ? toFailures(Item) : undefined;
  }

  async recordFailure(email: string, nowMs: number, windowMs: number): Promise<LoginFailures> {
    try {
      // Counting with ADD keeps concurrent failures from overwriting each other.
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.loginFailures(email),
          UpdateExpression: 'ADD #count :one SET lastAtMs = :now',
          ConditionExpression: 'attribute_exists(pk) AND firstAtMs > :windowStart',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':now': nowMs, ':windowStart': nowMs - windowMs },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (Attributes) return toFailures(Attributes);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // No window open (or it is over): this failure opens one, which expires with it.
    const fresh: LoginFailures = { count: 1, firstAtMs: nowMs, lastAtMs: nowMs };
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...keys.loginFailures(email), ...fresh, expiresAt: Math.ceil((nowMs + windowMs) / 1000) },
      }),
    );
    return fresh;
  }

  async clear(email: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.loginFailures(email) }));
  }
}

function toFailures(item: Record<string, unknown>): LoginFailures {
  return { count: Number(item.count), firstAtMs: Number(item.firstAtMs), lastAtMs: Number(item.lastAtMs) };
}

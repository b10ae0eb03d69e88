import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LoginAttemptStore, LoginFailures } from '../domain/ports';
import { isConditionFailure, keys } from './dynamo-keys';

/** Rounds of "count in the open window, else open one" before giving up; a race costs one more. */
const MAX_ROUNDS = 4;

export class DynamoLoginAttemptStore implements LoginAttemptStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * One conditional UpdateItem per attempt: ADD is atomic and ALL_OLD hands back the state just
   * before it, so fifty concurrent attempts see fifty distinct counts; no read-then-write gap.
   */
  async reserve(email: string, nowMs: number, windowMs: number): Promise<LoginFailures | undefined> {
    const windowStart = nowMs - windowMs;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: keys.loginFailures(email),
            UpdateExpression: 'ADD #count :one SET lastAtMs = :now',
            ConditionExpression: 'attribute_exists(pk) AND firstAtMs > :windowStart',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: { ':one': 1, ':now': nowMs, ':windowStart': windowStart },
            ReturnValues: 'ALL_OLD',
          }),
        );
        if (Attributes) return toFailures(Attributes);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      try {
        // No window open (or it is over): this attempt opens one, unless a concurrent attempt
        // just did, in which case the next round counts against that one.
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...keys.loginFailures(email),
              count: 1,
              firstAtMs: nowMs,
              lastAtMs: nowMs,
              expiresAt: Math.ceil((nowMs + windowMs) / 1000),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR firstAtMs <= :windowStart',
            ExpressionAttributeValues: { ':windowStart': windowStart },
          }),
        );
        return undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new Error(`login attempts for one email kept racing for ${MAX_ROUNDS} rounds`);
  }

  async release(email: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.loginFailures(email),
          UpdateExpression: 'ADD #count :minusOne',
          // Never below zero, and never creating an item without its TTL.
          ConditionExpression: 'attribute_exists(pk) AND #count > :zero',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async clear(email: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.loginFailures(email) }));
  }
}

function toFailures(item: Record<string, unknown>): LoginFailures {
  return { count: Number(item.count), firstAtMs: Number(item.firstAtMs), lastAtMs: Number(item.lastAtMs) };
}

import {
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { RefreshTokenRecord, RotationOutcome, TokenStore } from '../domain/ports';
import { failedConditions, isConditionFailure, keys } from './dynamo-keys';

export class DynamoTokenStore implements TokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async startFamily(first: RefreshTokenRecord): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.table,
              Item: {
                ...keys.family(first.familyId),
                revoked: false,
                userId: first.userId,
                expiresAt: first.expiresAt,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          { Put: this.tokenPut(first) },
        ],
      }),
    );
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    // Strongly consistent: a read lagging behind the previous rotation would miss a reuse.
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.refreshToken(tokenHash), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      tokenHash,
      userId: String(Item.userId),
      deviceId: String(Item.deviceId),
      familyId: String(Item.familyId),
      expiresAt: Number(Item.expiresAt),
      usedAtMs: typeof Item.usedAtMs === 'number' ? Item.usedAtMs : undefined,
    };
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.family(familyId), ConsistentRead: true }),
    );
    return !Item || Item.revoked === true;
  }

  /**
   * One transaction: mark the current token used only if nobody did yet, keep the family alive as
   * long as its newest token (so its revocation cannot expire before the token), store the next.
   */
  async rotate(
    current: RefreshTokenRecord,
    next: RefreshTokenRecord,
    nowMs: number,
  ): Promise<RotationOutcome> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: keys.refreshToken(current.tokenHash),
                UpdateExpression: 'SET usedAtMs = :now',
                ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedAtMs)',
                ExpressionAttributeValues: { ':now': nowMs },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: keys.family(current.familyId),
                UpdateExpression: 'SET expiresAt = :expiresAt',
                ConditionExpression: 'attribute_exists(pk) AND revoked = :false',
                ExpressionAttributeValues: { ':expiresAt': next.expiresAt, ':false': false },
              },
            },
            { Put: this.tokenPut(next) },
          ],
        }),
      );
      return 'rotated';
    } catch (error) {
      const failed = failedConditions(error);
      if (failed?.includes(0)) return 'already-used';
      if (failed?.includes(1)) return 'family-revoked';
      throw error;
    }
  }

  async revokeFamily(familyId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.family(familyId),
          UpdateExpression: 'SET revoked = :true',
          // An unknown family counts as revoked already; creating it would leave an item without TTL.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':true': true },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private tokenPut(record: RefreshTokenRecord) {
    return {
      TableName: this.table,
      Item: {
        ...keys.refreshToken(record.tokenHash),
        userId: record.userId,
        deviceId: record.deviceId,
        familyId: record.familyId,
        expiresAt: record.expiresAt,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
  }
}

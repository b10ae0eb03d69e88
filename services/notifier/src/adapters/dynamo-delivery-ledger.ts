import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClaimOutcome, DeliveryLedger, DeliveryRecord } from '../domain/ports';

const DAY_SECONDS = 24 * 3600;
/** A sent mark must outlive every redelivery of its event: queue retention (4 days) plus the DLQ's (14). */
const CLAIM_TTL_SECONDS = 30 * DAY_SECONDS;
const HISTORY_TTL_SECONDS = 90 * DAY_SECONDS;

export const claimKey = (eventId: string, userId: string) => ({
  pk: `DELIVERY#${eventId}`,
  sk: `USER#${userId}`,
});

/** History sort key: zero-padded send time first, so a user's partition reads newest first. */
export const historyKey = (userId: string, sentAtMs: number, eventId: string) => ({
  pk: `USER#${userId}`,
  sk: `DELIVERY#${String(sentAtMs).padStart(15, '0')}#${eventId}`,
});

interface HistoryItem {
  eventId: string;
  userId: string;
  email: string;
  subject: string;
  paths: string[];
  sentAtMs: number;
  messageId: string;
}

/** The notifier table: claims (`DELIVERY#<event>`/`USER#<user>`) and history (`USER#<user>`/`DELIVERY#…`). */
export class DynamoDeliveryLedger implements DeliveryLedger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(eventId: string, userId: string, nowMs: number, leaseUntilMs: number): Promise<ClaimOutcome> {
    const claimId = randomUUID();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...claimKey(eventId, userId),
            state: 'sending',
            claimId,
            claimedAtMs: nowMs,
            leaseExpiresAtMs: leaseUntilMs,
            expiresAt: Math.floor(nowMs / 1000) + CLAIM_TTL_SECONDS,
          },
          // New, or left `sending` by a worker whose lease ran out (it crashed or gave up).
          ConditionExpression: 'attribute_not_exists(pk) OR (#state = :sending AND #lease <= :now)',
          ExpressionAttributeNames: { '#state': 'state', '#lease': 'leaseExpiresAtMs' },
          ExpressionAttributeValues: { ':sending': 'sending', ':now': nowMs },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'claimed', claimId };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The claim that stood in the way, as DynamoDB attribute values. It is `sending` while a
      // worker holds it and `sent` for good once the mail went out; a claim written before
      // leases existed has no state and counts as sent.
      const held = error.Item;
      return held?.state?.S === 'sending'
        ? { kind: 'in-progress', leaseExpiresAtMs: Number(held.leaseExpiresAtMs?.N ?? 0) }
        : { kind: 'sent' };
    }
  }

  async release(eventId: string, userId: string, claimId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: claimKey(eventId, userId),
          // Only our own claim: after a takeover the claim is another worker's to complete.
          ConditionExpression: '#state = :sending AND claimId = :mine',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':sending': 'sending', ':mine': claimId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async record(delivery: DeliveryRecord): Promise<void> {
    // The sent mark first: it is what keeps the mail from going out again.
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...claimKey(delivery.eventId, delivery.userId),
          state: 'sent',
          sentAtMs: delivery.sentAtMs,
          messageId: delivery.messageId,
          expiresAt: Math.floor(delivery.sentAtMs / 1000) + CLAIM_TTL_SECONDS,
        },
      }),
    );
    const item: HistoryItem = { ...delivery, paths: [...delivery.paths] };
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...historyKey(delivery.userId, delivery.sentAtMs, delivery.eventId),
          ...item,
          expiresAt: Math.floor(delivery.sentAtMs / 1000) + HISTORY_TTL_SECONDS,
        },
      }),
    );
  }

  async listForUser(userId: string, limit: number, signal?: AbortSignal): Promise<DeliveryRecord[]> {
    const response = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `USER#${userId}`, ':prefix': 'DELIVERY#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
      { abortSignal: signal },
    );
    return (response.Items ?? []).map((raw) => {
      const item = raw as Partial<HistoryItem>;
      return {
        eventId: item.eventId ?? '',
        userId,
        email: item.email ?? '',
        subject: item.subject ?? '',
        paths: item.paths ?? [],
        sentAtMs: item.sentAtMs ?? 0,
        messageId: item.messageId ?? '',
      };
    });
  }
}

import { paginateQuery, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RevocationStore } from '../domain/ports';
import { keys } from './dynamo-keys';

export class DynamoRevocationStore implements RevocationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async revokeDevice(deviceId: string, untilMs: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...keys.revokedDevice(deviceId), untilMs, expiresAt: Math.ceil(untilMs / 1000) },
      }),
    );
  }

  async revokedDevices(nowMs: number): Promise<string[]> {
    const devices: string[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.revokedDevices },
        // Strongly consistent: a Logout that answered OK must be in the very next list.
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        // TTL deletes lag by up to days: expired entries are filtered here.
        if (Number(item.untilMs) > nowMs) devices.push(String(item.sk).slice('DEVICE#'.length));
      }
    }
    return devices;
  }
}

import {
  paginateQuery,
  TransactWriteCommand,
  GetCommand,
  PutCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { alreadyExists } from '@filesync/server-kit';
import type { Account, AccountStore, Device, Profile } from '../domain/ports';
import { failedConditions, keys } from './dynamo-keys';

export class DynamoAccountStore implements AccountStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createAccount(account: Account, firstDevice: Device): Promise<void> {
    const { userId, email, passwordHash, rootNamespaceId, createdAtMs } = account;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { ...keys.account(email), userId, passwordHash, rootNamespaceId, createdAtMs },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: { ...keys.profile(userId), email, rootNamespaceId, createdAtMs },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.table, Item: deviceItem(firstDevice) } },
          ],
        }),
      );
    } catch (error) {
      if (failedConditions(error)?.includes(0)) {
        throw alreadyExists('an account with this email already exists: log in instead');
      }
      throw error;
    }
  }

  async findByEmail(email: string): Promise<Account | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.account(email), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      userId: String(Item.userId),
      email,
      passwordHash: String(Item.passwordHash),
      rootNamespaceId: String(Item.rootNamespaceId),
      createdAtMs: Number(Item.createdAtMs),
    };
  }

  async findProfile(userId: string): Promise<Profile | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.profile(userId) }));
    if (!Item) return undefined;
    return { userId, email: String(Item.email), rootNamespaceId: String(Item.rootNamespaceId) };
  }

  async addDevice(device: Device): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: deviceItem(device) }));
  }

  async listDevices(userId: string): Promise<Device[]> {
    const devices: Device[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.profile(userId).pk, ':prefix': keys.devicePrefix },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        devices.push({
          userId,
          deviceId: String(item.sk).slice(keys.devicePrefix.length),
          name: String(item.name),
          createdAtMs: Number(item.createdAtMs),
        });
      }
    }
    return devices;
  }

  async removeDevice(userId: string, deviceId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.device(userId, deviceId) }));
  }
}

function deviceItem(device: Device) {
  return {
    ...keys.device(device.userId, device.deviceId),
    name: device.name,
    createdAtMs: device.createdAtMs,
  };
}

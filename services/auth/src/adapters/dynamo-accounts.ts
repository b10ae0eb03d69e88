import {
  paginateQuery,
  TransactWriteCommand,
  GetCommand,
  PutCommand,
  DeleteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { alreadyExists } from '@filesync/server-kit';
import type {
  Account,
  AccountStore,
  Device,
  PendingVerification,
  Profile,
  VerificationState,
  VerificationStore,
} from '../domain/ports';
import { failedConditions, isConditionFailure, keys } from './dynamo-keys';

/** The email verification lives on the profile item, next to the address it confirms. */
export class DynamoAccountStore implements AccountStore, VerificationStore {
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
    // Strongly consistent: a refresh right after VerifyEmail must see the confirmation.
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.profile(userId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      userId,
      email: String(Item.email),
      rootNamespaceId: String(Item.rootNamespaceId),
      emailVerified: Item.emailVerified === true,
    };
  }

  async hasDevice(userId: string, deviceId: string): Promise<boolean> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: keys.device(userId, deviceId),
        ConsistentRead: true,
        ProjectionExpression: 'pk',
      }),
    );
    return Item !== undefined;
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
          ...(item.lastSeenAtMs === undefined ? {} : { lastSeenAtMs: Number(item.lastSeenAtMs) }),
        });
      }
    }
    return devices;
  }

  async verificationState(userId: string): Promise<VerificationState | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.profile(userId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const pending: PendingVerification | undefined =
      typeof Item.verifyCodeHash === 'string'
        ? {
            codeHash: Item.verifyCodeHash,
            expiresAtMs: Number(Item.verifyExpiresAtMs),
            sentAtMs: Number(Item.verifySentAtMs),
            attempts: Number(Item.verifyAttempts ?? 0),
          }
        : undefined;
    return { emailVerified: Item.emailVerified === true, pending };
  }

  async putVerificationCode(
    userId: string,
    code: Omit<PendingVerification, 'attempts'>,
    notSentAfterMs: number,
  ): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.profile(userId),
        UpdateExpression:
          'SET verifyCodeHash = :hash, verifyExpiresAtMs = :expires, verifySentAtMs = :sent, verifyAttempts = :zero',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(emailVerified) OR emailVerified = :false) AND ' +
          '(attribute_not_exists(verifySentAtMs) OR verifySentAtMs <= :notAfter)',
        ExpressionAttributeValues: {
          ':hash': code.codeHash,
          ':expires': code.expiresAtMs,
          ':sent': code.sentAtMs,
          ':zero': 0,
          ':false': false,
          ':notAfter': notSentAfterMs,
        },
      }),
    );
  }

  async countVerificationGuess(userId: string, codeHash: string): Promise<number | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.profile(userId),
          UpdateExpression: 'ADD verifyAttempts :one',
          ConditionExpression: 'verifyCodeHash = :hash',
          ExpressionAttributeValues: { ':one': 1, ':hash': codeHash },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return Number(Attributes?.verifyAttempts ?? 0);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async confirmEmail(userId: string, codeHash: string): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.profile(userId),
        UpdateExpression:
          'SET emailVerified = :true REMOVE verifyCodeHash, verifyExpiresAtMs, verifySentAtMs, verifyAttempts',
        ConditionExpression: 'verifyCodeHash = :hash',
        ExpressionAttributeValues: { ':true': true, ':hash': codeHash },
      }),
    );
  }

  private async conditionally(command: UpdateCommand): Promise<boolean> {
    try {
      await this.db.send(command);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async touchDevice(userId: string, deviceId: string, atMs: number): Promise<void> {
    // Only an existing device: a touch racing RemoveDevice must not bring the device back.
    await this.conditionally(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.device(userId, deviceId),
        UpdateExpression: 'SET lastSeenAtMs = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': atMs },
      }),
    );
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
    lastSeenAtMs: device.lastSeenAtMs ?? device.createdAtMs,
  };
}

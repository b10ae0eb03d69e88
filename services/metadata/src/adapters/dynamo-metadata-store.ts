import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { FileEntry, Follow, JournalRecord } from '../domain/model';
import {
  versionKey as refKey,
  type MetadataStore,
  type TransactionOutcome,
  type TransactionWrite,
} from '../domain/ports';
import { batchGetAll, type Item } from './dynamo-batch';
import {
  FILE_PREFIX,
  FOLLOW_PREFIX,
  HEAD_KEY,
  JOURNAL_END,
  fileKey,
  followKey,
  journalKey,
  nsKey,
  outboxKey,
  versionKey,
  versionPrefix,
} from './keys';

export interface MetadataTables {
  readonly metadata: string;
  readonly outbox: string;
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What each position of a commit transaction stands for, to read CancellationReasons back. */
type Slot = { kind: 'head' } | { kind: 'file'; path: string } | { kind: 'other' };

/** The metadata table as the domain's MetadataStore (item layout: see keys.ts and the brief). */
export class DynamoMetadataStore implements MetadataStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: MetadataTables,
  ) {}

  async readHead(namespaceId: string): Promise<number> {
    const { Item: item } = await this.client.send(
      new GetCommand({
        TableName: this.tables.metadata,
        Key: { pk: nsKey(namespaceId), sk: HEAD_KEY },
        ConsistentRead: true,
      }),
    );
    return typeof item?.seq === 'number' ? item.seq : 0;
  }

  async currentEntries(namespaceId: string, paths: readonly string[]): Promise<Map<string, FileEntry>> {
    const pk = nsKey(namespaceId);
    const items = await batchGetAll(
      this.client,
      this.tables.metadata,
      paths.map((path) => ({ pk, sk: fileKey(path) })),
    );
    return new Map(items.map((item) => [item.path as string, entryOf(namespaceId, item)]));
  }

  async commit(write: TransactionWrite): Promise<TransactionOutcome> {
    const { items, slots } = this.transactionItems(write);
    try {
      await this.client.send(
        new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }),
      );
      return { kind: 'committed' };
    } catch (error) {
      const reasons = cancellationCodes(error);
      if (!reasons) throw error;
      return outcomeOf(reasons, slots);
    }
  }

  private transactionItems(write: TransactionWrite): { items: TransactItem[]; slots: Slot[] } {
    const { metadata, outbox } = this.tables;
    const pk = nsKey(write.namespaceId);
    const { journal } = write;
    const items: TransactItem[] = [];
    const slots: Slot[] = [];

    slots.push({ kind: 'head' });
    items.push({
      Put: {
        TableName: metadata,
        Item: { pk, sk: HEAD_KEY, seq: journal.seq, updatedAtMs: journal.committedAtMs },
        ...(write.expectedSeq === 0
          ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
          : {
              ConditionExpression: '#seq = :expected',
              ExpressionAttributeNames: { '#seq': 'seq' },
              ExpressionAttributeValues: { ':expected': write.expectedSeq },
            }),
      },
    });
    for (const { entry, expectedVersion } of write.files) {
      slots.push({ kind: 'file', path: entry.path });
      items.push({
        Put: {
          TableName: metadata,
          Item: { pk, sk: fileKey(entry.path), ...entryAttributes(entry) },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        },
      });
      slots.push({ kind: 'file', path: entry.path });
      items.push(
        putNew(metadata, { pk, sk: versionKey(entry.path, entry.version), ...entryAttributes(entry) }),
      );
    }
    slots.push({ kind: 'other' });
    items.push(putNew(metadata, { pk, sk: journalKey(journal.seq), ...journalAttributes(journal) }));
    slots.push({ kind: 'other' });
    items.push(
      putNew(outbox, {
        ...outboxKey(write.event.eventId),
        namespaceId: write.namespaceId,
        seq: journal.seq,
        createdAtMs: journal.committedAtMs,
        body: JSON.stringify(write.event),
      }),
    );
    return { items, slots };
  }

  async *listFiles(namespaceId: string): AsyncIterable<readonly FileEntry[]> {
    for await (const items of this.query({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': nsKey(namespaceId), ':prefix': FILE_PREFIX },
    })) {
      yield items.map((item) => entryOf(namespaceId, item));
    }
  }

  async listVersions(namespaceId: string, path: string): Promise<FileEntry[]> {
    const versions: FileEntry[] = [];
    for await (const items of this.query({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': nsKey(namespaceId), ':prefix': versionPrefix(path) },
      ScanIndexForward: false,
    })) {
      // The prefix of "a" also matches versions of "a#b": keep the exact path only.
      for (const item of items) if (item.path === path) versions.push(entryOf(namespaceId, item));
    }
    return versions;
  }

  async getVersions(
    namespaceId: string,
    refs: readonly { path: string; version: number }[],
  ): Promise<Map<string, FileEntry>> {
    const pk = nsKey(namespaceId);
    const items = await batchGetAll(
      this.client,
      this.tables.metadata,
      refs.map(({ path, version }) => ({ pk, sk: versionKey(path, version) })),
    );
    return new Map(
      items.map((item) => {
        const entry = entryOf(namespaceId, item);
        return [refKey(entry.path, entry.version), entry];
      }),
    );
  }

  async listJournal(
    namespaceId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ records: JournalRecord[]; hasMore: boolean }> {
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.tables.metadata,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: {
          ':pk': nsKey(namespaceId),
          ':from': journalKey(afterSeq + 1),
          ':to': JOURNAL_END,
        },
        ConsistentRead: true,
        Limit: limit + 1,
      }),
    );
    const items = output.Items ?? [];
    return {
      records: items.slice(0, limit).map((item) => journalOf(namespaceId, item)),
      hasMore: items.length > limit || output.LastEvaluatedKey !== undefined,
    };
  }

  async listFollows(namespaceId: string): Promise<Follow[]> {
    const follows: Follow[] = [];
    for await (const items of this.query({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': nsKey(namespaceId), ':prefix': FOLLOW_PREFIX },
    })) {
      for (const item of items) {
        follows.push({
          namespaceId,
          path: String(item.path ?? ''),
          userId: String(item.userId),
          email: String(item.email),
          emailVerified: item.emailVerified === true,
        });
      }
    }
    return follows;
  }

  async putFollow(follow: Follow): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tables.metadata,
        Item: {
          pk: nsKey(follow.namespaceId),
          sk: followKey(follow.path, follow.userId),
          path: follow.path,
          userId: follow.userId,
          email: follow.email,
          emailVerified: follow.emailVerified === true,
          createdAtMs: Date.now(),
        },
      }),
    );
  }

  async deleteFollow(namespaceId: string, path: string, userId: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tables.metadata,
        Key: { pk: nsKey(namespaceId), sk: followKey(path, userId) },
      }),
    );
  }

  private async *query(input: Omit<QueryCommandInput, 'TableName'>): AsyncIterable<Item[]> {
    let start: Record<string, any> | undefined;
    do {
      const output = await this.client.send(
        new QueryCommand({
          ...input,
          TableName: this.tables.metadata,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      yield output.Items ?? [];
      start = output.LastEvaluatedKey;
    } while (start);
  }
}

function putNew(tableName: string, item: Item): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: item,
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'pk' },
    },
  };
}

function entryAttributes(entry: FileEntry): Item {
  return {
    path: entry.path,
    version: entry.version,
    deleted: entry.deleted,
    contentHash: entry.content?.contentHash ?? '',
    size: entry.content?.size ?? 0,
    blockHashes: [...(entry.content?.blockHashes ?? [])],
    modifiedAtMs: entry.modifiedAtMs,
    committedAtMs: entry.committedAtMs,
    deviceId: entry.deviceId,
    journalSeq: entry.journalSeq,
  };
}

export function entryOf(namespaceId: string, item: Item): FileEntry {
  const deleted = item.deleted === true;
  return {
    namespaceId,
    path: String(item.path),
    version: Number(item.version),
    deleted,
    content: deleted
      ? undefined
      : {
          contentHash: String(item.contentHash ?? ''),
          size: Number(item.size ?? 0),
          blockHashes: Array.isArray(item.blockHashes) ? item.blockHashes.map(String) : [],
        },
    modifiedAtMs: Number(item.modifiedAtMs ?? 0),
    committedAtMs: Number(item.committedAtMs ?? 0),
    deviceId: String(item.deviceId ?? ''),
    journalSeq: Number(item.journalSeq ?? 0),
  };
}

function journalAttributes(journal: JournalRecord): Item {
  return {
    seq: journal.seq,
    committedAtMs: journal.committedAtMs,
    actorUserId: journal.actor.userId,
    actorDeviceId: journal.actor.deviceId,
    actorEmail: journal.actor.email,
    changes: journal.changes.map((change) => ({ ...change })),
  };
}

function journalOf(namespaceId: string, item: Item): JournalRecord {
  const changes = Array.isArray(item.changes) ? (item.changes as Item[]) : [];
  return {
    namespaceId,
    seq: Number(item.seq),
    committedAtMs: Number(item.committedAtMs ?? 0),
    actor: {
      userId: String(item.actorUserId ?? ''),
      deviceId: String(item.actorDeviceId ?? ''),
      email: String(item.actorEmail ?? ''),
    },
    changes: changes.map((change) => ({
      path: String(change.path),
      version: Number(change.version),
      deleted: change.deleted === true,
      size: Number(change.size ?? 0),
      contentHash: String(change.contentHash ?? ''),
      modifiedAtMs: Number(change.modifiedAtMs ?? 0),
    })),
  };
}

/** The per-item cancellation codes of a cancelled transaction, or undefined for any other error. */
export function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((reason) => reason.Code);
}

const RETRYABLE_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/**
 * Reads a cancelled commit: a failed condition on a file means it conflicts; on the head, or a
 * concurrent transaction on any item, means another commit won the race and this one may retry.
 * Anything else (validation, size limits, throttling) is not a precondition and is rethrown.
 */
export function outcomeOf(
  codes: readonly (string | undefined)[],
  slots: readonly Slot[],
): TransactionOutcome {
  const conflicting = new Set<string>();
  let raced = false;
  codes.forEach((code, index) => {
    if (code === undefined || code === 'None') return;
    const slot = slots[index];
    if (RETRYABLE_CODES.has(code)) raced = true;
    else if (code === 'ConditionalCheckFailed' && slot?.kind === 'file') conflicting.add(slot.path);
    else if (code === 'ConditionalCheckFailed') raced = true;
    else throw new Error(`commit transaction cancelled: ${code} at item ${index}`);
  });
  if (conflicting.size === 0 && !raced) raced = true;
  return { kind: 'rejected', conflictingPaths: [...conflicting], raced };
}

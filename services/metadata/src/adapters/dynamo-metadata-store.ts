import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { LIMITS, RETENTION, TABLES, TRASH_INDEX } from '@filesync/resources';
import { comparePaths, isAtOrBelow } from '@filesync/sync-core';
import { MAX_INLINE_BLOCK_HASHES } from '../domain/commit-plan';
import { ancestorsOf } from '../domain/tree';
import type { FileEntry, Follow, JournalRecord, TrashEntry } from '../domain/model';
import {
  versionKey as refKey,
  type HeadState,
  type ListFilesOptions,
  type MetadataStore,
  type TransactionOutcome,
  type TransactionWrite,
  type TrashPage,
  type TrashQuery,
} from '../domain/ports';
import { batchGetAll, batchWriteAll, type Item } from './dynamo-batch';
import {
  FILE_PREFIX,
  FOLLOW_PREFIX,
  HEAD_KEY,
  JOURNAL_END,
  blockListKey,
  fileKey,
  folderKey,
  followKey,
  journalKey,
  fileBelowPrefix,
  fileGroupStart,
  nsKey,
  outboxKey,
  trashBelowPrefix,
  trashGroupStart,
  trashKey,
  versionKey,
  versionPrefix,
} from './keys';
import { inPathOrder } from './path-order';

/** Block hashes per block-list part: 12,000 × 32 bytes = 384,000 bytes, under the 400 KB item limit. */
export const HASHES_PER_BLOCK_LIST_PART = 12_000;
const HASH_BYTES = 32;

export interface MetadataTables {
  readonly metadata: string;
  readonly outbox: string;
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What each position of a commit transaction stands for, to read CancellationReasons back. */
type Slot = { kind: 'head' } | { kind: 'file'; path: string } | { kind: 'other' };

/**
 * The metadata table as the domain's MetadataStore (item layout: see keys.ts and the brief). The
 * current version of a file lives only in its FILE# item; a VER# item is the copy of a superseded
 * version, written by the transaction that supersedes it, with `expiresAt` (Unix seconds) set
 * for DynamoDB's TTL. Items written before that layout have a VER# item for the current version
 * too and none has `expiresAt`: readers take the FILE# item for the current version and treat a
 * VER# item past its expiresAt as gone, since TTL deletes late (and DynamoDB Local never).
 */
export class DynamoMetadataStore implements MetadataStore {
  private readonly now: () => number;
  private readonly retentionMs: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: MetadataTables,
    /**
     * `now`: the clock expiry is judged by (Unix milliseconds); `retentionMs`: how long deleted
     * files stay restorable, for tombstones indexed after the fact (default RETENTION's).
     */
    options: { now?: () => number; retentionMs?: number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.retentionMs = options.retentionMs ?? RETENTION.defaultDays * 24 * 60 * 60 * 1000;
  }

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

  async readHeadState(namespaceId: string): Promise<HeadState> {
    const { Item: item } = await this.client.send(
      new GetCommand({
        TableName: this.tables.metadata,
        Key: { pk: nsKey(namespaceId), sk: HEAD_KEY },
        ConsistentRead: true,
      }),
    );
    if (!item) return { seq: 0, live: 0, window: undefined };
    const seq = Number(item.seq);
    // A head without the live count, the folder flag or the trash flag: one listing of the files
    // brings what it lacks.
    const counted = typeof item.live === 'number' && item[FOLDER_MARKERS] === true;
    const live =
      counted && item[TRASH_INDEXED] === true
        ? Number(item.live)
        : await this.indexTree(namespaceId, {
            kept: typeof item.live === 'number' ? item.live : undefined,
            folders: !counted,
            trash: item[TRASH_INDEXED] !== true,
          });
    const window =
      typeof item.windowStartMs === 'number'
        ? {
            startMs: item.windowStartMs,
            liveAtStart: Number(item.windowLiveAtStart ?? 0),
            deleted: Number(item.windowDeleted ?? 0),
            created: Number(item.windowCreated ?? 0),
          }
        : undefined;
    return { seq, live, window };
  }

  /**
   * A namespace whose head lacks the live count (committed to before it was kept) or the folder
   * flag (before folder markers, or last by a service version without them): one listing of its
   * files counts the live ones and marks their folders; the next commit's head carries the count
   * and the flag. A commit of an older version in between writes a head without the flag, so the
   * next reader lists again. Returns `kept` when the head had a count, else the count found.
   */
  private async indexTree(
    namespaceId: string,
    todo: { kept: number | undefined; folders: boolean; trash: boolean },
  ): Promise<number> {
    const marked = new Set<string>();
    let live = 0;
    for await (const items of this.query({
      KeyConditionExpression: PREFIX_CONDITION,
      ExpressionAttributeNames: {
        '#pk': 'pk',
        '#sk': 'sk',
        '#path': 'path',
        '#deleted': 'deleted',
        '#version': 'version',
        '#committedAtMs': 'committedAtMs',
        '#trashPk': TRASH_INDEX.partitionKey,
      },
      ExpressionAttributeValues: { ':pk': nsKey(namespaceId), ':prefix': FILE_PREFIX },
      ProjectionExpression: '#path, #deleted, #version, #committedAtMs, #trashPk',
    })) {
      const paths = items.filter((item) => item.deleted !== true).map((item) => String(item.path));
      live += paths.length;
      if (todo.folders) {
        const unmarked = [...new Set(paths.flatMap(ancestorsOf))].filter((folder) => !marked.has(folder));
        for (const folder of unmarked) marked.add(folder);
        await this.markFolders(namespaceId, unmarked);
      }
      if (todo.trash) {
        await this.indexTombstones(
          namespaceId,
          items.filter((item) => item.deleted === true && item[TRASH_INDEX.partitionKey] === undefined),
        );
      }
    }
    return todo.kept ?? live;
  }

  /**
   * Issue 8: tombstones committed before the trash index existed (or by an older service version
   * during a rolling deployment) get their index attributes from the version they superseded,
   * each only if it is still that tombstone. One whose last live version is gone is not
   * restorable and stays out. An old-layout version without an expiry counts the retention period
   * from the deletion.
   */
  private async indexTombstones(namespaceId: string, tombstones: readonly Item[]): Promise<void> {
    if (tombstones.length === 0) return;
    const pk = nsKey(namespaceId);
    const previous = new Map(
      (
        await batchGetAll(
          this.client,
          this.tables.metadata,
          tombstones.map((item) => ({ pk, sk: versionKey(String(item.path), Number(item.version) - 1) })),
        )
      ).map((item) => [refKey(String(item.path), Number(item.version)), item]),
    );
    for (const tombstone of tombstones) {
      const path = String(tombstone.path);
      const version = Number(tombstone.version);
      const last = previous.get(refKey(path, version - 1));
      if (!last || last.deleted === true) continue;
      const expiresAtMs =
        typeof last[EXPIRES_AT] === 'number'
          ? last[EXPIRES_AT] * 1000
          : Number(tombstone.committedAtMs ?? 0) + this.retentionMs;
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tables.metadata,
            Key: { pk, sk: tombstone.sk },
            UpdateExpression: 'SET #trashPk = :pk, #trashSk = :sk, #expires = :expires, #size = :size',
            ConditionExpression: '#version = :version AND #deleted = :deleted',
            ExpressionAttributeNames: {
              '#trashPk': TRASH_INDEX.partitionKey,
              '#trashSk': TRASH_INDEX.sortKey,
              '#expires': 'trashExpiresAtMs',
              '#size': 'trashSize',
              '#version': 'version',
              '#deleted': 'deleted',
            },
            ExpressionAttributeValues: {
              ':pk': pk,
              ':sk': trashKey(path),
              ':expires': expiresAtMs,
              ':size': Number(last.size ?? 0),
              ':version': version,
              ':deleted': true,
            },
          }),
        );
      } catch (error) {
        // A commit changed the file since it was listed, and wrote its own index attributes.
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      }
    }
  }

  /**
   * ListTrash before any commit by this service version: tombstones of older ones are indexed
   * first, and the head says so unless a commit moved it meanwhile (then the next reader checks).
   */
  private async ensureTrashIndexed(namespaceId: string, signal?: AbortSignal): Promise<void> {
    const key = { pk: nsKey(namespaceId), sk: HEAD_KEY };
    const { Item: head } = await this.client.send(
      new GetCommand({ TableName: this.tables.metadata, Key: key, ConsistentRead: true }),
      { abortSignal: signal },
    );
    if (!head || head[TRASH_INDEXED] === true) return;
    await this.indexTree(namespaceId, { kept: 0, folders: false, trash: true });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.metadata,
          Key: key,
          UpdateExpression: 'SET #indexed = :true',
          ConditionExpression: '#seq = :seq',
          ExpressionAttributeNames: { '#indexed': TRASH_INDEXED, '#seq': 'seq' },
          ExpressionAttributeValues: { ':true': true, ':seq': head.seq },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      const name = (error as Error).name;
      if (name !== 'ConditionalCheckFailedException' && name !== 'TransactionConflictException') throw error;
    }
  }

  async foldersAmong(namespaceId: string, paths: readonly string[]): Promise<Set<string>> {
    const pk = nsKey(namespaceId);
    const items = await batchGetAll(
      this.client,
      this.tables.metadata,
      paths.map((path) => ({ pk, sk: folderKey(path) })),
      { expression: '#path', names: { '#path': 'path' } },
    );
    return new Set(items.map((item) => String(item.path)));
  }

  async markFolders(namespaceId: string, folders: readonly string[]): Promise<void> {
    const pk = nsKey(namespaceId);
    await batchWriteAll(
      this.client,
      this.tables.metadata,
      folders.map((path) => ({ PutRequest: { Item: { pk, sk: folderKey(path), path } } })),
    );
  }

  async liveAmong(namespaceId: string, paths: readonly string[]): Promise<Set<string>> {
    const pk = nsKey(namespaceId);
    const items = await batchGetAll(
      this.client,
      this.tables.metadata,
      paths.map((path) => ({ pk, sk: fileKey(path) })),
      { expression: '#path, #deleted', names: { '#path': 'path', '#deleted': 'deleted' } },
    );
    return new Set(items.filter((item) => item.deleted !== true).map((item) => String(item.path)));
  }

  /**
   * Reads the current entries below the folder in key order until a live one not ignored turns
   * up. Tombstones are read and stepped over: the tree check asks only for a path that is a
   * marked folder (a file made where a folder was), so this rare question pays for the folder's
   * deleted files rather than every commit paying for a live index.
   */
  async firstLiveBelow(
    namespaceId: string,
    folder: string,
    ignoring: ReadonlySet<string>,
  ): Promise<string | undefined> {
    // No Limit: it would count the tombstones the filter drops, so a folder of many deleted
    // files would cost a query per few of them; full pages read them 1 MB at a time.
    for await (const items of this.query({
      KeyConditionExpression: PREFIX_CONDITION,
      FilterExpression:
        'begins_with(#path, :folder) AND (attribute_not_exists(#deleted) OR #deleted = :live)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#path': 'path', '#deleted': 'deleted' },
      ExpressionAttributeValues: {
        ':pk': nsKey(namespaceId),
        ':prefix': fileBelowPrefix(folder),
        ':folder': `${folder}/`,
        ':live': false,
      },
      ProjectionExpression: '#path, #deleted',
    })) {
      const found = items
        .filter((item) => item.deleted !== true)
        .map((item) => String(item.path))
        .find((path) => !ignoring.has(path));
      if (found !== undefined) return found;
    }
    return undefined;
  }

  async currentEntries(namespaceId: string, paths: readonly string[]): Promise<Map<string, FileEntry>> {
    const pk = nsKey(namespaceId);
    const items = await batchGetAll(
      this.client,
      this.tables.metadata,
      paths.map((path) => ({ pk, sk: fileKey(path) })),
    );
    const entries = await this.entriesOf(namespaceId, items);
    return new Map(entries.map((entry) => [entry.path, entry]));
  }

  /** Entries of file or version items, with block lists stored apart read back in. */
  private async entriesOf(namespaceId: string, items: readonly Item[]): Promise<FileEntry[]> {
    const pk = nsKey(namespaceId);
    const lists = new Map<string, number>();
    for (const item of items) {
      if (item.deleted !== true && typeof item.blockListParts === 'number') {
        lists.set(String(item.contentHash), item.blockListParts);
      }
    }
    if (lists.size === 0) return items.map((item) => entryOf(namespaceId, item));
    const keys = [...lists].flatMap(([hash, parts]) =>
      Array.from({ length: parts }, (_, index) => ({ pk, sk: blockListKey(hash, index) })),
    );
    const parts = new Map(
      (await batchGetAll(this.client, this.tables.metadata, keys)).map((part) => [
        String(part.sk),
        part.hashes as Uint8Array,
      ]),
    );
    const decoded = new Map<string, string[]>();
    for (const [hash, count] of lists) {
      const hashes: string[] = [];
      for (let index = 0; index < count; index += 1) {
        const part = parts.get(blockListKey(hash, index));
        if (!part) throw new Error(`block list ${hash} lacks part ${index}`);
        const bytes = Buffer.from(part);
        for (let offset = 0; offset < bytes.length; offset += HASH_BYTES) {
          hashes.push(bytes.subarray(offset, offset + HASH_BYTES).toString('hex'));
        }
      }
      decoded.set(hash, hashes);
    }
    return items.map((item) => entryOf(namespaceId, item, decoded.get(String(item.contentHash))));
  }

  /**
   * Issue 6, kind 10: writes the parts of every long block list before the transaction that
   * references them, so no committed entry ever points at a list that is not durably stored.
   * Parts are keyed by the content hash (SHA-256 over exactly these digests), so rewriting one
   * is idempotent and two files with the same content share it; parts of a transaction that
   * then fails are unreferenced and harmless.
   */
  private async writeBlockLists(write: TransactionWrite): Promise<void> {
    const pk = nsKey(write.namespaceId);
    const lists = new Map<string, readonly string[]>();
    for (const { entry } of write.files) {
      if (entry.content && entry.content.blockHashes.length > MAX_INLINE_BLOCK_HASHES) {
        lists.set(entry.content.contentHash, entry.content.blockHashes);
      }
    }
    const requests = [...lists].flatMap(([hash, hashes]) =>
      blockListParts(hashes).map((part, index) => ({
        PutRequest: { Item: { pk, sk: blockListKey(hash, index), hashes: part } },
      })),
    );
    if (requests.length > 0) await batchWriteAll(this.client, this.tables.metadata, requests);
  }

  async commit(write: TransactionWrite): Promise<TransactionOutcome> {
    await this.writeBlockLists(write);
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
        Item: {
          pk,
          sk: HEAD_KEY,
          seq: journal.seq,
          updatedAtMs: journal.committedAtMs,
          live: write.head.live,
          [FOLDER_MARKERS]: true,
          [TRASH_INDEXED]: true,
          ...(write.head.window
            ? {
                windowStartMs: write.head.window.startMs,
                windowLiveAtStart: write.head.window.liveAtStart,
                windowDeleted: write.head.window.deleted,
                windowCreated: write.head.window.created,
              }
            : {}),
        },
        ...(write.expectedSeq === 0
          ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
          : {
              ConditionExpression: '#seq = :expected',
              ExpressionAttributeNames: { '#seq': 'seq' },
              ExpressionAttributeValues: { ':expected': write.expectedSeq },
            }),
      },
    });
    const expiresAt = Math.floor(write.supersededExpireAtMs / 1000);
    for (const { entry, expectedVersion, superseded } of write.files) {
      slots.push({ kind: 'file', path: entry.path });
      // A deletion of a live file enters the trash index; any other write of the item (a restore,
      // new content) leaves it, since the whole item is replaced.
      const trash =
        entry.deleted && superseded && !superseded.deleted
          ? {
              [TRASH_INDEX.partitionKey]: pk,
              [TRASH_INDEX.sortKey]: trashKey(entry.path),
              trashExpiresAtMs: write.supersededExpireAtMs,
              trashSize: superseded.content?.size ?? 0,
            }
          : {};
      items.push({
        Put: {
          TableName: metadata,
          Item: { pk, sk: fileKey(entry.path), ...entryAttributes(entry), ...trash },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        },
      });
      // The version it replaces is kept until the retention period ends. The FILE# condition
      // guarantees it is exactly that version; an item of the old layout is overwritten, which
      // gives it an expiry too.
      if (superseded) {
        slots.push({ kind: 'other' });
        items.push({
          Put: {
            TableName: metadata,
            Item: {
              pk,
              sk: versionKey(superseded.path, superseded.version),
              ...entryAttributes(superseded),
              [EXPIRES_AT]: expiresAt,
            },
          },
        });
      }
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

  async *listFiles(namespaceId: string, options: ListFilesOptions = {}): AsyncIterable<readonly FileEntry[]> {
    const { prefix = '', startAfter = '', signal } = options;
    const pages = this.query(
      {
        KeyConditionExpression: PREFIX_CONDITION,
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: {
          ':pk': nsKey(namespaceId),
          ':prefix': prefix === '' ? FILE_PREFIX : fileBelowPrefix(prefix),
        },
        // DynamoDB Local answers a 1 MB page (about 2,900 file items) in 5 to 21 s on a loaded
        // machine, past the SDK's request timeout, and the cost grows faster than the page; a
        // page of LIMITS.listFilesQueryItems stays a fraction of a second (see limits.ts).
        Limit: LIMITS.listFilesQueryItems,
      },
      { from: startAfter === '' ? undefined : fileGroupStart(startAfter), signal },
    );
    // A long prefix is cut in the key (fileBelowPrefix): its range may hold other paths; and the
    // group of a long `startAfter` starts before it.
    const wanted = (path: string) =>
      (prefix === '' || path.startsWith(`${prefix}/`)) &&
      (startAfter === '' || comparePaths(path, startAfter) > 0);
    for await (const items of inPathOrder(pages, (item) => String(item.path))) {
      const kept = items.filter((item) => wanted(String(item.path)));
      if (kept.length > 0) yield await this.entriesOf(namespaceId, kept);
    }
  }

  /**
   * Reads the trash index below the prefix only: the path itself (one key) and the range of keys
   * below `prefix/`, from the group of `afterPath` on. Long paths sharing their first
   * ORDER_PREFIX_BYTES are put back in path order (inPathOrder); entries past their retention are
   * left out. The index is eventually consistent on AWS (no strongly consistent reads of a GSI).
   */
  async listTrash(namespaceId: string, query: TrashQuery, signal?: AbortSignal): Promise<TrashPage> {
    await this.ensureTrashIndexed(namespaceId, signal);
    const { prefix, afterPath, limit } = query;
    const nowMs = this.now();
    const isAfter = (path: string) => afterPath === undefined || comparePaths(path, afterPath) > 0;
    // Keys compare as UTF-8 bytes, like comparePaths (not like JavaScript's `<`).
    // A range's keys may belong to other paths (a long path's key is cut): `holds` tells its own.
    const ranges: (KeyRange & { holds: (path: string) => boolean })[] = [];
    const start = afterPath === undefined ? undefined : trashGroupStart(afterPath);
    if (prefix === '') {
      ranges.push({ from: start, to: undefined, holds: () => true });
    } else {
      const key = trashKey(prefix);
      if (isAfter(prefix)) ranges.push({ from: key, to: key, holds: (path) => path === prefix });
      const below = trashBelowPrefix(prefix);
      const from = start !== undefined && comparePaths(start, below) > 0 ? start : below;
      const to = prefixEnd(below);
      if (comparePaths(from, to) <= 0) {
        ranges.push({ from, to, holds: (path) => path !== prefix && isAtOrBelow(path, prefix) });
      }
    }
    const entries: TrashEntry[] = [];
    for (const range of ranges) {
      const pages = inPathOrder(this.queryTrash(namespaceId, range, limit + 1, signal), (item) =>
        String(item.path),
      );
      for await (const items of pages) {
        for (const item of items) {
          const path = String(item.path);
          const expiresAtMs = Number(item.trashExpiresAtMs ?? 0);
          if (!range.holds(path) || !isAfter(path) || expiresAtMs <= nowMs) continue;
          entries.push({
            path,
            version: Number(item.version),
            deletedAtMs: Number(item.committedAtMs ?? 0),
            deviceId: String(item.deviceId ?? ''),
            expiresAtMs,
            size: Number(item.trashSize ?? 0),
          });
        }
        if (entries.length > limit) break;
      }
      if (entries.length > limit) break;
    }
    return { entries: entries.slice(0, limit), hasMore: entries.length > limit };
  }

  /** Pages of the trash index of a namespace, keys from `from` to `to` (inclusive; open when undefined). */
  private async *queryTrash(
    namespaceId: string,
    range: KeyRange,
    pageSize: number,
    signal: AbortSignal | undefined,
  ): AsyncIterable<Item[]> {
    const { from, to } = range;
    const condition =
      from === undefined
        ? ''
        : to === undefined
          ? ' AND #sk >= :from'
          : to === from
            ? ' AND #sk = :from'
            : ' AND #sk BETWEEN :from AND :to';
    let startKey: Record<string, any> | undefined;
    do {
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tables.metadata,
          IndexName: TRASH_INDEX.name,
          KeyConditionExpression: `#pk = :pk${condition}`,
          ExpressionAttributeNames: {
            '#pk': TRASH_INDEX.partitionKey,
            ...(condition ? { '#sk': TRASH_INDEX.sortKey } : {}),
          },
          ExpressionAttributeValues: {
            ':pk': nsKey(namespaceId),
            ...(from === undefined ? {} : { ':from': from }),
            ...(to === undefined || to === from ? {} : { ':to': to }),
          },
          Limit: pageSize,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
        { abortSignal: signal },
      );
      yield output.Items ?? [];
      startKey = output.LastEvaluatedKey;
    } while (startKey);
  }

  async listVersions(namespaceId: string, path: string): Promise<FileEntry[]> {
    const nowMs = this.now();
    const pk = nsKey(namespaceId);
    const { Item: file } = await this.client.send(
      new GetCommand({
        TableName: this.tables.metadata,
        Key: { pk, sk: fileKey(path) },
        ConsistentRead: true,
      }),
    );
    const items: Item[] = file ? [file] : [];
    for await (const page of this.query({
      KeyConditionExpression: PREFIX_CONDITION,
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': pk, ':prefix': versionPrefix(path) },
      ScanIndexForward: false,
    })) {
      // The prefix of "a" also matches versions of "a#b": keep the exact path only. The current
      // version is the FILE# item's, whatever an old-layout VER# item of it says.
      items.push(
        ...page.filter(
          (item) => item.path === path && item.version !== file?.version && !isExpired(item, nowMs),
        ),
      );
    }
    items.sort((a, b) => Number(b.version) - Number(a.version));
    return this.entriesOf(namespaceId, items);
  }

  async getVersions(
    namespaceId: string,
    refs: readonly { path: string; version: number }[],
  ): Promise<Map<string, FileEntry>> {
    if (refs.length === 0) return new Map();
    const pk = nsKey(namespaceId);
    const nowMs = this.now();
    const wanted = new Set(refs.map(({ path, version }) => refKey(path, version)));
    // Most versions a journal page names are still current: read the FILE# items first.
    const files = await batchGetAll(
      this.client,
      this.tables.metadata,
      [...new Set(refs.map(({ path }) => path))].map((path) => ({ pk, sk: fileKey(path) })),
    );
    const current = files.filter((item) => wanted.has(refKey(String(item.path), Number(item.version))));
    const found = new Set(current.map((item) => refKey(String(item.path), Number(item.version))));
    const rest = refs.filter(({ path, version }) => !found.has(refKey(path, version)));
    const superseded =
      rest.length === 0
        ? []
        : (
            await batchGetAll(
              this.client,
              this.tables.metadata,
              rest.map(({ path, version }) => ({ pk, sk: versionKey(path, version) })),
            )
          ).filter((item) => !isExpired(item, nowMs));
    const entries = await this.entriesOf(namespaceId, [...current, ...superseded]);
    return new Map(entries.map((entry) => [refKey(entry.path, entry.version), entry]));
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
      KeyConditionExpression: PREFIX_CONDITION,
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

  /**
   * Pages of a query. A PREFIX_CONDITION query is sent as the key range from the prefix to
   * prefixEnd(prefix): DynamoDB reads the same items either way, but DynamoDB Local answers
   * begins_with by reading every item of the partition after the prefix (measured: 250 ms a query
   * in a namespace of 100,000 files, once per new file in a commit's tree check), a range by its
   * items only. The one key the range holds beyond the prefix (prefixEnd itself) is dropped.
   */
  private async *query(
    input: Omit<QueryCommandInput, 'TableName'>,
    options: QueryOptions = {},
  ): AsyncIterable<Item[]> {
    const prefix =
      input.KeyConditionExpression === PREFIX_CONDITION
        ? String(input.ExpressionAttributeValues?.[':prefix'])
        : undefined;
    // A range that starts within the prefix's starts there (keys compare as UTF-8 bytes).
    const from =
      prefix !== undefined && options.from !== undefined && comparePaths(options.from, prefix) > 0
        ? options.from
        : prefix;
    const request =
      prefix === undefined
        ? input
        : {
            ...input,
            // `:prefix` now holds where the range starts: the prefix, or `from` within it.
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :prefix AND :prefixEnd',
            ExpressionAttributeValues: {
              ...input.ExpressionAttributeValues,
              ':prefix': from,
              ':prefixEnd': prefixEnd(prefix),
            },
            // The end key is told apart by its sort key (#sk is declared for the key condition).
            ...(input.ProjectionExpression
              ? { ProjectionExpression: `${input.ProjectionExpression}, #sk` }
              : {}),
          };
    let start: Record<string, any> | undefined;
    do {
      const output = await this.client.send(
        new QueryCommand({
          ...request,
          TableName: this.tables.metadata,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
        { abortSignal: options.signal },
      );
      const items = output.Items ?? [];
      yield prefix === undefined ? items : items.filter((item) => String(item.sk).startsWith(prefix));
      start = output.LastEvaluatedKey;
    } while (start);
  }
}

/** How query() reads: a PREFIX_CONDITION query may start at a key within the prefix, and may be cancelled. */
interface QueryOptions {
  /** The least sort key to read, when above the prefix (a resumed listing). */
  readonly from?: string | undefined;
  /** Aborts the request in flight: the caller went away or its deadline passed. */
  readonly signal?: AbortSignal | undefined;
}

/** Sort keys from `from` to `to`, both included; undefined leaves that end open. */
interface KeyRange {
  readonly from: string | undefined;
  readonly to: string | undefined;
}

/** Key condition of a query for the sort keys that start with `:prefix` (see query()). */
/** Head attribute: the folders of every live file are marked (see indexTree). */
const FOLDER_MARKERS = 'folderMarkers';
/** Head attribute: every tombstone of a live file is in the trash index (see indexTombstones). */
const TRASH_INDEXED = 'trashIndexed';

const PREFIX_CONDITION = '#pk = :pk AND begins_with(#sk, :prefix)';

/**
 * The least key above every key that starts with `prefix`: the prefix with its last character
 * raised by one. Keys compare as UTF-8 bytes, which order like code points.
 */
export function prefixEnd(prefix: string): string {
  const chars = [...prefix];
  const last = chars.pop()!.codePointAt(0)!;
  // Surrogate code points are no characters: after U+D7FF comes U+E000.
  return chars.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
}

/** The TTL attribute of the metadata table (TABLES.metadata.ttlAttribute): Unix seconds. */
const EXPIRES_AT = TABLES.metadata.ttlAttribute;

/** DynamoDB's TTL deletes an expired item late (DynamoDB Local never): past its expiry it is gone already. */
function isExpired(item: Item, nowMs: number): boolean {
  const expiresAt = item[EXPIRES_AT];
  return typeof expiresAt === 'number' && expiresAt * 1000 <= nowMs;
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

/** A block list as parts of raw 32-byte digests. */
export function blockListParts(hashes: readonly string[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let start = 0; start < hashes.length; start += HASHES_PER_BLOCK_LIST_PART) {
    const slice = hashes.slice(start, start + HASHES_PER_BLOCK_LIST_PART);
    parts.push(Buffer.from(slice.join(''), 'hex'));
  }
  return parts;
}

function entryAttributes(entry: FileEntry): Item {
  const hashes = entry.content?.blockHashes ?? [];
  const apart = hashes.length > MAX_INLINE_BLOCK_HASHES;
  return {
    path: entry.path,
    version: entry.version,
    deleted: entry.deleted,
    contentHash: entry.content?.contentHash ?? '',
    size: entry.content?.size ?? 0,
    blockHashes: apart ? [] : [...hashes],
    ...(apart ? { blockListParts: Math.ceil(hashes.length / HASHES_PER_BLOCK_LIST_PART) } : {}),
    modifiedAtMs: entry.modifiedAtMs,
    committedAtMs: entry.committedAtMs,
    deviceId: entry.deviceId,
    journalSeq: entry.journalSeq,
    ...(entry.movedFrom ? { movedFrom: entry.movedFrom } : {}),
    ...(entry.movedTo ? { movedTo: entry.movedTo } : {}),
  };
}

export function entryOf(namespaceId: string, item: Item, blockList?: readonly string[]): FileEntry {
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
          blockHashes: blockList
            ? [...blockList]
            : Array.isArray(item.blockHashes)
              ? item.blockHashes.map(String)
              : [],
        },
    modifiedAtMs: Number(item.modifiedAtMs ?? 0),
    committedAtMs: Number(item.committedAtMs ?? 0),
    deviceId: String(item.deviceId ?? ''),
    journalSeq: Number(item.journalSeq ?? 0),
    ...(typeof item.movedFrom === 'string' ? { movedFrom: item.movedFrom } : {}),
    ...(typeof item.movedTo === 'string' ? { movedTo: item.movedTo } : {}),
    // A superseded version's end of retention (only VER# items carry one).
    ...(typeof item[EXPIRES_AT] === 'number' ? { expiresAtMs: item[EXPIRES_AT] * 1000 } : {}),
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
      ...(typeof change.movedFrom === 'string' ? { movedFrom: change.movedFrom } : {}),
      ...(typeof change.movedTo === 'string' ? { movedTo: change.movedTo } : {}),
      ...(Array.isArray(change.blockHashes) ? { blockHashes: change.blockHashes.map(String) } : {}),
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

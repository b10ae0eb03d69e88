/**
 * DynamoDB tables of filesync. The local bootstrap, the services and the CDK stack all read
 * these definitions, so a key or index cannot differ between local and AWS.
 *
 * Every table uses a generic string partition key `pk` and sort key `sk` (single-table style per
 * owning service), and optionally a TTL attribute holding Unix seconds.
 */
/**
 * A global secondary index. Its keys are strings; an item lacking either key attribute is not in
 * the index (a sparse index), so an index costs only the items that set them.
 */
export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Non-key attributes copied into the index (the table's and the index's keys always are). */
  readonly projectedAttributes: readonly string[];
}

export interface TableDefinition {
  /** Logical id: used as the CDK construct id and to name the environment variable. */
  readonly id: string;
  /** Physical name used locally; on AWS the stack passes the generated name to the services. */
  readonly defaultName: string;
  /** Environment variable through which the physical name reaches a service. */
  readonly envVar: string;
  readonly partitionKey: 'pk';
  readonly sortKey: 'sk';
  /** Attribute holding an expiry in Unix seconds, when items of this table expire. */
  readonly ttlAttribute?: string;
  /** The service that owns the table (the only one granted access to it). */
  readonly owner: ServiceName;
  /** Global secondary indexes (DynamoDB creates them with the table). */
  readonly indexes?: readonly IndexDefinition[];
}

/**
 * The trash (issue 8): a sparse index of the metadata table's current entries that are
 * tombstones. A FILE# item carries `trashPk` (its partition key) and `trashSk` (the path, keyed
 * like the item's own sort key) only while it is a tombstone that superseded a live version, so
 * listing a namespace's trash reads its deleted files only, never its live ones.
 */
export const TRASH_INDEX = {
  name: 'trash',
  partitionKey: 'trashPk',
  sortKey: 'trashSk',
  projectedAttributes: ['path', 'version', 'committedAtMs', 'deviceId', 'trashExpiresAtMs', 'trashSize'],
} as const satisfies IndexDefinition;

export type ServiceName = 'auth' | 'metadata' | 'sync-diff' | 'notifier';

export const TABLES = {
  /** Accounts by email, devices, refresh token chains and login throttling state. */
  auth: {
    id: 'AuthTable',
    defaultName: 'filesync-auth',
    envVar: 'FILESYNC_AUTH_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
    owner: 'auth',
  },
  /**
   * Namespace heads (journal sequence), current files, versions, journal, follows, the block index
   * and packs. Superseded versions expire (`expiresAt`) after the retention period.
   */
  metadata: {
    id: 'MetadataTable',
    defaultName: 'filesync-metadata',
    envVar: 'FILESYNC_METADATA_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
    owner: 'metadata',
    indexes: [TRASH_INDEX],
  },
  /** Change events written in the same transaction as the change, until the relay sent them. */
  outbox: {
    id: 'OutboxTable',
    defaultName: 'filesync-outbox',
    envVar: 'FILESYNC_OUTBOX_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    owner: 'metadata',
  },
  /** Which mail went to whom for which event: the at-most-once ledger and the delivery history. */
  notifier: {
    id: 'NotifierTable',
    defaultName: 'filesync-notifier',
    envVar: 'FILESYNC_NOTIFIER_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
    owner: 'notifier',
  },
} as const satisfies Record<string, TableDefinition>;

export type TableKey = keyof typeof TABLES;

/**
 * The key schema of a table and its indexes in DynamoDB's CreateTable terms (plain data, so
 * callers need no SDK types from here): the local bootstrap and the test helpers spread it into
 * their CreateTable input, the CDK stack reads the same definitions.
 */
export function tableSchema(table: TableDefinition) {
  const indexes = table.indexes ?? [];
  const keyNames = [
    table.partitionKey,
    table.sortKey,
    ...indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return {
    AttributeDefinitions: [...new Set(keyNames)].map((name) => ({
      AttributeName: name,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: table.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: table.sortKey, KeyType: 'RANGE' as const },
    ],
    ...(indexes.length > 0
      ? {
          GlobalSecondaryIndexes: indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
              { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
            ],
            Projection: {
              ProjectionType: 'INCLUDE' as const,
              NonKeyAttributes: [...index.projectedAttributes],
            },
          })),
        }
      : {}),
  };
}

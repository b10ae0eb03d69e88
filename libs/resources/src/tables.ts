/**
 * DynamoDB tables of filesync. The local bootstrap, the services and the CDK stack all read
 * these definitions, so a key or index cannot differ between local and AWS.
 *
 * Every table uses a generic string partition key `pk` and sort key `sk` (single-table style per
 * owning service), and optionally a TTL attribute holding Unix seconds.
 */
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
}

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

/**
 * The AWS permissions of each service, and of the storage role auth hands out, in ONE place.
 *
 * The CDK stack turns these grants into task role policies; a contract test harness can turn the
 * same grants into IAM policies for emulator credentials (see `policyStatements`), so what the
 * tests prove is what production gets. This module imports no CDK on purpose: it is plain data.
 *
 * Every action is one the service's code calls (or one AWS evaluates for such a call, said where
 * so), checked against the services' adapters. DynamoDB transactions have no IAM action of their
 * own: TransactWriteItems is authorised per item as PutItem / UpdateItem / DeleteItem /
 * ConditionCheckItem, and BatchWriteItem deletes need only dynamodb:BatchWriteItem.
 */
import { TRASH_INDEX, type ServiceName, type TableKey } from './tables';

/** What a grant applies to; resolved to ARNs by whoever builds the policy. */
export type ResourceRef =
  | { readonly kind: 'table'; readonly table: TableKey }
  /** A global secondary index of a table (queries of an index are authorised on its own ARN). */
  | { readonly kind: 'table-index'; readonly table: TableKey; readonly index: string }
  | { readonly kind: 'queue' }
  /** The SNS topic metadata tasks tell each other of commits through (NAMESPACE_ADVANCED_TOPIC). */
  | { readonly kind: 'advance-topic' }
  /** The per-task wake-up queues: every queue whose name starts with the task queue prefix. */
  | { readonly kind: 'task-queues' }
  /** The bucket itself (bucket-level actions such as s3:ListBucket). */
  | { readonly kind: 'bucket' }
  /** Objects of the bucket whose keys match the pattern (IAM wildcards). */
  | { readonly kind: 'objects'; readonly keyPattern: string }
  | { readonly kind: 'storage-role' }
  | { readonly kind: 'mail-identity' };

export interface Grant {
  readonly actions: readonly string[];
  readonly on: ResourceRef;
}

/** Every block lives below `ns/<namespace>/`; session policies narrow this further per user. */
export const NAMESPACE_OBJECTS = 'ns/*';

const table = (key: TableKey): ResourceRef => ({ kind: 'table', table: key });

export const SERVICE_PERMISSIONS: Readonly<Record<ServiceName, readonly Grant[]>> = {
  auth: [
    {
      // Accounts, devices (listed by Query), login throttling, refresh-token chains (rotation as
      // transactions of conditional puts and updates).
      actions: [
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      ],
      on: table('auth'),
    },
    // Mints per-user S3 credentials: AssumeRole with a session policy naming the user's namespaces.
    { actions: ['sts:AssumeRole'], on: { kind: 'storage-role' } },
    // Mails the email verification code (sign-up, resend) from the same sender identity.
    { actions: ['ses:SendEmail'], on: { kind: 'mail-identity' } },
  ],
  metadata: [
    {
      // Heads, files, versions, journal, follows (Get/Query/Put/Delete, commits as transactions of
      // conditional puts) and the block index: BatchGetItem reads BLOCK# items, conditional puts
      // index blocks, UpdateItem records packs and revives condemned blocks.
      actions: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
      ],
      on: table('metadata'),
    },
    // ListTrash and RestoreFiles query the trash index of deleted files.
    { actions: ['dynamodb:Query'], on: { kind: 'table-index', table: 'metadata', index: TRASH_INDEX.name } },
    {
      // Put in the commit transaction; the relay scans pending events and batch-deletes sent ones.
      actions: ['dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:BatchWriteItem'],
      on: table('outbox'),
    },
    // HeadObject of a pack being registered (does it exist, with this size?) is authorised as s3:GetObject.
    { actions: ['s3:GetObject'], on: { kind: 'objects', keyPattern: NAMESPACE_OBJECTS } },
    // Not for listing (no request path lists the bucket): without ListBucket, AWS answers the
    // HeadObject of a missing pack 403 instead of 404, and a missing pack must read as missing.
    { actions: ['s3:ListBucket'], on: { kind: 'bucket' } },
    // SendMessageBatch is authorised as sqs:SendMessage.
    { actions: ['sqs:SendMessage'], on: { kind: 'queue' } },
    // Push between tasks: each commit publishes a wake-up; each task subscribes its own queue at
    // start and unsubscribes at shutdown (Unsubscribe is authorised on the topic).
    { actions: ['sns:Publish', 'sns:Subscribe', 'sns:Unsubscribe'], on: { kind: 'advance-topic' } },
    {
      // Each task creates its queue, reads its ARN, sets the policy that lets only the topic
      // deliver to it, long-polls it, deletes what it read (DeleteMessageBatch is authorised as
      // sqs:DeleteMessage) and deletes the queue at shutdown.
      actions: [
        'sqs:CreateQueue',
        'sqs:SetQueueAttributes',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:DeleteQueue',
      ],
      on: { kind: 'task-queues' },
    },
  ],
  // Computes diffs from metadata's answers over gRPC: no AWS access at all.
  'sync-diff': [],
  notifier: [
    {
      // Delivery claims (conditional put, deleted again when SES fails) and the delivery history.
      actions: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      on: table('notifier'),
    },
    {
      // DeleteMessageBatch is authorised as sqs:DeleteMessage. A failed message is not released
      // early: it reappears when its visibility timeout ends, and the redrive policy counts it.
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
      on: { kind: 'queue' },
    },
    { actions: ['ses:SendEmail'], on: { kind: 'mail-identity' } },
  ],
};

/**
 * The storage garbage collector: a scheduled job of the metadata service (same image, its own task
 * role, services/metadata/src/gc). It needs no queue, outbox or auth access, but it deletes and
 * writes what the service never does.
 */
export const GARBAGE_COLLECTOR_PERMISSIONS: readonly Grant[] = [
  {
    // Namespaces from HEAD items (Scan), FILE#/VER#/BLOCK#/PACK#/BLOCKLIST# items (Query), long
    // block lists (BatchGetItem), a PACK# item re-checked before its orphan object goes (GetItem),
    // conditional condemn / revive / move / retire (UpdateItem), the PACK# item of a rewritten pack
    // (PutItem) and conditional deletes (DeleteItem).
    actions: [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ],
    on: table('metadata'),
  },
  {
    // Ranged reads of packs and HeadObject of legacy blocks (s3:GetObject), rewritten packs
    // (s3:PutObject), and the deletes.
    actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
    on: { kind: 'objects', keyPattern: NAMESPACE_OBJECTS },
  },
  // ListObjectsV2 of a namespace's packs/ and blocks/ prefixes, for objects nothing indexes.
  { actions: ['s3:ListBucket'], on: { kind: 'bucket' } },
];

/** What the credentials auth hands to clients may ever do, before the per-user session policy. */
export const STORAGE_ROLE_PERMISSIONS: readonly Grant[] = [
  { actions: ['s3:GetObject', 's3:PutObject'], on: { kind: 'objects', keyPattern: NAMESPACE_OBJECTS } },
];

/** ARNs (or CDK tokens standing for them) of the resources grants refer to. */
export interface ResourceArns {
  readonly tables: Readonly<Record<TableKey, string>>;
  readonly queue: string;
  readonly advanceTopic: string;
  /** ARN prefix of the per-task queues: `arn:aws:sqs:<region>:<account>:<taskQueuePrefix>`. */
  readonly taskQueuesPrefix: string;
  readonly bucket: string;
  readonly storageRole: string;
  readonly mailIdentity: string;
}

export function resourceArn(ref: ResourceRef, arns: ResourceArns): string {
  switch (ref.kind) {
    case 'table':
      return arns.tables[ref.table];
    case 'table-index':
      return `${arns.tables[ref.table]}/index/${ref.index}`;
    case 'queue':
      return arns.queue;
    case 'advance-topic':
      return arns.advanceTopic;
    case 'task-queues':
      return `${arns.taskQueuesPrefix}*`;
    case 'bucket':
      return arns.bucket;
    case 'objects':
      return `${arns.bucket}/${ref.keyPattern}`;
    case 'storage-role':
      return arns.storageRole;
    case 'mail-identity':
      return arns.mailIdentity;
  }
}

export interface PolicyStatementJson {
  readonly Effect: 'Allow';
  readonly Action: string[];
  readonly Resource: string[];
}

/** IAM statements for a list of grants: one statement per grant, so each stays reviewable. */
export function policyStatements(grants: readonly Grant[], arns: ResourceArns): PolicyStatementJson[] {
  return grants.map((grant) => ({
    Effect: 'Allow',
    Action: [...grant.actions],
    Resource: [resourceArn(grant.on, arns)],
  }));
}

/** The storage role's policy statements for a bucket: object reads and writes below `ns/` only. */
export function storageRoleStatements(bucketArn: string): PolicyStatementJson[] {
  return STORAGE_ROLE_PERMISSIONS.map((grant) => {
    if (grant.on.kind !== 'objects') throw new Error('the storage role may only grant object access');
    return { Effect: 'Allow', Action: [...grant.actions], Resource: [`${bucketArn}/${grant.on.keyPattern}`] };
  });
}

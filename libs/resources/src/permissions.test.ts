import { TABLES, type TableKey } from './tables';
import {
  GARBAGE_COLLECTOR_PERMISSIONS,
  NAMESPACE_OBJECTS,
  SERVICE_PERMISSIONS,
  STORAGE_ROLE_PERMISSIONS,
  policyStatements,
  storageRoleStatements,
  type ResourceArns,
} from './permissions';

// ARNs as a contract-test harness against moto would resolve them.
const arns: ResourceArns = {
  tables: Object.fromEntries(
    (Object.keys(TABLES) as TableKey[]).map((key) => [
      key,
      `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLES[key].defaultName}`,
    ]),
  ) as Record<TableKey, string>,
  queue: 'arn:aws:sqs:us-east-1:123456789012:filesync-change-events',
  advanceTopic: 'arn:aws:sns:us-east-1:123456789012:filesync-namespace-advanced',
  taskQueuesPrefix: 'arn:aws:sqs:us-east-1:123456789012:filesync-watch-',
  bucket: 'arn:aws:s3:::filesync-blocks',
  storageRole: 'arn:aws:iam::123456789012:role/filesync-storage-access',
  mailIdentity: 'arn:aws:ses:us-east-1:123456789012:identity/notifications@filesync.local',
};

describe('service permissions', () => {
  it('resolves grants into one Allow statement each', () => {
    expect(policyStatements(SERVICE_PERMISSIONS.auth, arns)).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        Resource: ['arn:aws:dynamodb:us-east-1:123456789012:table/filesync-auth'],
      },
      { Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: [arns.storageRole] },
      { Effect: 'Allow', Action: ['ses:SendEmail'], Resource: [arns.mailIdentity] },
    ]);
  });

  it('gives each table only to the service that owns it', () => {
    for (const [service, grants] of Object.entries(SERVICE_PERMISSIONS)) {
      for (const grant of grants) {
        if (grant.on.kind === 'table' || grant.on.kind === 'table-index')
          expect(TABLES[grant.on.table].owner).toBe(service);
      }
    }
  });

  it('grants queries of the trash index on the index ARN, nothing else there', () => {
    expect(policyStatements(SERVICE_PERMISSIONS.metadata, arns)).toContainEqual({
      Effect: 'Allow',
      Action: ['dynamodb:Query'],
      Resource: ['arn:aws:dynamodb:us-east-1:123456789012:table/filesync-metadata/index/trash'],
    });
  });

  it('gives sync-diff no AWS access', () => {
    expect(SERVICE_PERMISSIONS['sync-diff']).toEqual([]);
  });

  it('lets metadata read block objects and send to the queue, but never write objects or receive', () => {
    const statements = policyStatements(SERVICE_PERMISSIONS.metadata, arns);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: ['arn:aws:s3:::filesync-blocks/ns/*'],
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [arns.queue],
    });
    const actions = statements.flatMap((statement) => statement.Action);
    expect(actions).not.toContain('s3:PutObject');
    // The change events are the notifier's to consume; metadata reads only its own wake-up queue.
    const onChangeEvents = statements.filter((statement) => statement.Resource.includes(arns.queue));
    expect(onChangeEvents.flatMap((statement) => statement.Action)).toEqual(['sqs:SendMessage']);
  });

  it('lets metadata publish and subscribe to the push topic and manage only queues of the task prefix', () => {
    const statements = policyStatements(SERVICE_PERMISSIONS.metadata, arns);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['sns:Publish', 'sns:Subscribe', 'sns:Unsubscribe'],
      Resource: [arns.advanceTopic],
    });
    const taskQueues = statements.filter((statement) =>
      statement.Action.some((action) => action === 'sqs:CreateQueue' || action === 'sqs:DeleteQueue'),
    );
    expect(taskQueues.map((statement) => statement.Resource)).toEqual([
      ['arn:aws:sqs:us-east-1:123456789012:filesync-watch-*'],
    ]);
  });

  it('lets the notifier consume the queue and send mail from its identity only', () => {
    const statements = policyStatements(SERVICE_PERMISSIONS.notifier, arns);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
      Resource: [arns.queue],
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['ses:SendEmail'],
      Resource: [arns.mailIdentity],
    });
  });

  it('never grants wildcard actions, nor resources outside the namespace and task-queue prefixes', () => {
    const all = [
      ...Object.values(SERVICE_PERMISSIONS).flat(),
      ...STORAGE_ROLE_PERMISSIONS,
      ...GARBAGE_COLLECTOR_PERMISSIONS,
    ];
    for (const statement of policyStatements(all, arns)) {
      for (const action of statement.Action) expect(action).not.toContain('*');
      for (const resource of statement.Resource) {
        const prefixes = [`${arns.bucket}/${NAMESPACE_OBJECTS}`, `${arns.taskQueuesPrefix}*`];
        expect(prefixes.includes(resource) || !resource.includes('*')).toBe(true);
      }
    }
  });

  it('gives the garbage collector the metadata table and the objects below ns/, and nothing else', () => {
    const statements = policyStatements(GARBAGE_COLLECTOR_PERMISSIONS, arns);
    expect(statements.flatMap((statement) => statement.Resource).sort()).toEqual(
      [arns.tables.metadata, `${arns.bucket}/ns/*`, arns.bucket].sort(),
    );
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: ['arn:aws:s3:::filesync-blocks/ns/*'],
    });
  });

  it('limits the storage role to object reads and writes below ns/', () => {
    expect(policyStatements(STORAGE_ROLE_PERMISSIONS, arns)).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: ['arn:aws:s3:::filesync-blocks/ns/*'],
      },
    ]);
  });
});

describe('storageRoleStatements', () => {
  it('grants block reads and writes below ns/ of the given bucket and nothing else', () => {
    expect(storageRoleStatements('arn:aws:s3:::blocks')).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: ['arn:aws:s3:::blocks/ns/*'] },
    ]);
  });
});

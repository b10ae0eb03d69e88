import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, GetRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BLOCKS_BUCKET,
  CHANGE_EVENTS_QUEUE,
  DEFAULT_REGION,
  NAMESPACE_ADVANCED_TOPIC,
  STORAGE_ROLE,
  storageRoleStatements,
  TABLES,
  tableSchema,
  type TableDefinition,
} from '@filesync/resources';
import type { EmulatorEndpoints } from './emulators';

/** moto's fixed account: the principal every local caller is. */
export const LOCAL_ACCOUNT_ID = '123456789012';

/** Static credentials the emulators accept; never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export interface BootstrappedResources {
  readonly region: string;
  readonly bucket: string;
  readonly tables: { readonly [K in keyof typeof TABLES]: string };
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** The topic metadata processes tell each other of commits through (push). */
  readonly advanceTopicArn: string;
  readonly storageRoleArn: string;
}

function clientConfig(endpoint: string) {
  return { region: DEFAULT_REGION, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 };
}

async function ensureTable(dynamodb: DynamoDBClient, table: TableDefinition): Promise<void> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table.defaultName,
        BillingMode: 'PAY_PER_REQUEST',
        ...tableSchema(table),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    return; // Created by an earlier run, TTL included.
  }
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 30 }, { TableName: table.defaultName });
  if (table.ttlAttribute) {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: table.defaultName,
        TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
      }),
    );
  }
}

async function ensureBucket(s3: S3Client): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BLOCKS_BUCKET.defaultName }));
  } catch (error) {
    if (
      (error as Error).name !== 'BucketAlreadyOwnedByYou' &&
      (error as Error).name !== 'BucketAlreadyExists'
    ) {
      throw error;
    }
  }
}

async function ensureQueues(
  sqs: SQSClient,
  visibilityTimeoutSeconds: number,
): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  const queue = CHANGE_EVENTS_QUEUE;
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: queue.deadLetter.defaultName,
      Attributes: { MessageRetentionPeriod: String(queue.deadLetter.retentionSeconds) },
    }),
  );
  const deadLetterQueueUrl = dlq.QueueUrl as string;
  const dlqAttributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: queue.defaultName,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(queue.retentionSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes?.QueueArn,
          maxReceiveCount: queue.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: main.QueueUrl as string, deadLetterQueueUrl };
}

/** The push topic; each metadata process subscribes a queue of its own to it at start. */
async function ensureAdvanceTopic(sns: SNSClient): Promise<string> {
  // CreateTopic is idempotent: the same name answers the existing topic's ARN.
  const created = await sns.send(new CreateTopicCommand({ Name: NAMESPACE_ADVANCED_TOPIC.defaultName }));
  if (!created.TopicArn)
    throw new Error(`SNS did not return the ARN of ${NAMESPACE_ADVANCED_TOPIC.defaultName}`);
  return created.TopicArn;
}

/**
 * The role auth assumes to mint per-user storage credentials. Its trust policy names the local
 * account root, the principal moto sees for the 'test' credentials the services use.
 */
async function ensureStorageRole(iam: IAMClient, bucket: string): Promise<string> {
  const roleName = STORAGE_ROLE.defaultName;
  let arn: string | undefined;
  try {
    const created = await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:root` },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    arn = created.Role?.Arn;
  } catch (error) {
    if ((error as Error).name !== 'EntityAlreadyExistsException') throw error;
    arn = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.Arn;
  }
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: 'blocks-read-write',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: storageRoleStatements(`arn:aws:s3:::${bucket}`),
      }),
    }),
  );
  if (!arn) throw new Error(`IAM did not return the ARN of role ${roleName}`);
  return arn;
}

/**
 * Creates everything the services expect from the shared definitions in @filesync/resources.
 * Safe to run again against emulators that already hold them.
 *
 * No SES identity is created: aws-ses-v2-local accepts mail from any sender and has no
 * identity API; on AWS the CDK stack creates and verifies it.
 */
export interface BootstrapOptions {
  /**
   * The change-event queue's visibility timeout. Tests shorten it so a message that keeps failing
   * reaches the dead-letter queue in seconds instead of maxReceiveCount times 30 s.
   */
  readonly queueVisibilityTimeoutSeconds?: number;
}

export async function bootstrap(
  endpoints: EmulatorEndpoints,
  options: BootstrapOptions = {},
): Promise<BootstrappedResources> {
  const dynamodb = new DynamoDBClient(clientConfig(endpoints.dynamodb));
  const s3 = new S3Client({ ...clientConfig(endpoints.moto), forcePathStyle: true });
  const sqs = new SQSClient(clientConfig(endpoints.moto));
  const iam = new IAMClient(clientConfig(endpoints.moto));
  const sns = new SNSClient(clientConfig(endpoints.moto));
  try {
    const [, , queues, storageRoleArn, advanceTopicArn] = await Promise.all([
      Promise.all(Object.values(TABLES).map((table) => ensureTable(dynamodb, table))),
      ensureBucket(s3),
      ensureQueues(
        sqs,
        options.queueVisibilityTimeoutSeconds ?? CHANGE_EVENTS_QUEUE.visibilityTimeoutSeconds,
      ),
      ensureStorageRole(iam, BLOCKS_BUCKET.defaultName),
      ensureAdvanceTopic(sns),
    ]);
    return {
      region: DEFAULT_REGION,
      bucket: BLOCKS_BUCKET.defaultName,
      tables: {
        auth: TABLES.auth.defaultName,
        metadata: TABLES.metadata.defaultName,
        outbox: TABLES.outbox.defaultName,
        notifier: TABLES.notifier.defaultName,
      },
      ...queues,
      advanceTopicArn,
      storageRoleArn,
    };
  } finally {
    for (const client of [dynamodb, s3, sqs, iam, sns]) client.destroy();
  }
}

import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  GARBAGE_COLLECTOR_PERMISSIONS,
  MAIL_SENDER,
  NAMESPACE_ADVANCED_TOPIC,
  SERVICE_NAMES,
  SERVICE_PERMISSIONS,
  STORAGE_ROLE_PERMISSIONS,
  policyStatements,
  type Grant,
  type PolicyStatementJson,
  type ResourceArns,
  type ServiceName,
} from '@filesync/resources';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, type BootstrappedResources } from '@filesync/local-stack';

/** What one service container signs its AWS calls with. */
export interface ServiceCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly userArn: string;
}

export type ServiceCredentialMap = Readonly<Record<ServiceName, ServiceCredentials>>;

/**
 * AWS authorises some batch APIs under the single-item action (SendMessageBatch needs
 * sqs:SendMessage), while moto checks the API's own name. The emulator policy lists both, so it
 * allows exactly what the task role allows on AWS: the alias is added only next to its base action.
 */
const MOTO_ACTION_ALIASES: Readonly<Record<string, readonly string[]>> = {
  'sqs:SendMessage': ['sqs:SendMessageBatch'],
  'sqs:DeleteMessage': ['sqs:DeleteMessageBatch'],
};

/**
 * Actions moto authorises against "*" rather than their resource: its SQS checks a queue's ARN
 * only once the queue exists (CreateQueue of `filesync-watch-<id>` is asked as "*"), and its SNS
 * never names the topic. A grant on the ARN (what AWS checks) never matches "*", so the emulator
 * policy adds these actions on "*" for a role granted them on some resource; everything else
 * stays as on AWS.
 */
const MOTO_UNSCOPED_ACTIONS: readonly string[] = [
  'sqs:CreateQueue',
  'sns:Publish',
  'sns:Subscribe',
  'sns:Unsubscribe',
];

export function motoStatements(statements: readonly PolicyStatementJson[]): PolicyStatementJson[] {
  const mapped: PolicyStatementJson[] = statements.map((statement) => ({
    ...statement,
    Action: statement.Action.flatMap((action) => [action, ...(MOTO_ACTION_ALIASES[action] ?? [])]),
  }));
  const unscoped = MOTO_UNSCOPED_ACTIONS.filter((action) =>
    statements.some((statement) => statement.Action.includes(action)),
  );
  return unscoped.length === 0 ? mapped : [...mapped, { Effect: 'Allow', Action: unscoped, Resource: ['*'] }];
}

/** ARNs of the bootstrapped resources as moto names them (its fixed account). */
export async function localResourceArns(
  resources: BootstrappedResources,
  sqs: SQSClient,
): Promise<ResourceArns> {
  const { region } = resources;
  const table = (name: string) => `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${name}`;
  const queue = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: resources.queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queueArn = queue.Attributes?.QueueArn;
  if (!queueArn) throw new Error(`moto returned no ARN for ${resources.queueUrl}`);
  return {
    tables: {
      auth: table(resources.tables.auth),
      metadata: table(resources.tables.metadata),
      outbox: table(resources.tables.outbox),
      notifier: table(resources.tables.notifier),
    },
    queue: queueArn,
    advanceTopic: resources.advanceTopicArn,
    taskQueuesPrefix: `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${NAMESPACE_ADVANCED_TOPIC.taskQueuePrefix}`,
    bucket: `arn:aws:s3:::${resources.bucket}`,
    storageRole: resources.storageRoleArn,
    mailIdentity: `arn:aws:ses:${region}:${LOCAL_ACCOUNT_ID}:identity/${MAIL_SENDER.defaultAddress}`,
  };
}

export function serviceUserName(service: ServiceName): string {
  return `filesync-contract-${service}`;
}

/**
 * One IAM user per service with an inline policy built from SERVICE_PERMISSIONS, the grants the
 * CDK task roles get, and an access key for the container. The storage role keeps the policy of
 * STORAGE_ROLE_PERMISSIONS and gets a trust policy naming only auth's user, as the stack lets
 * only auth's task role assume it.
 *
 * Only moto (S3, STS, SQS) enforces these. DynamoDB Local and aws-ses-v2-local accept any
 * credentials, so DynamoDB and SES grants are proven by the CDK and permissions tests only.
 */
export async function createServiceUsers(
  motoEndpoint: string,
  resources: BootstrappedResources,
): Promise<ServiceCredentialMap> {
  const config = { region: resources.region, endpoint: motoEndpoint, credentials: LOCAL_CREDENTIALS };
  const iam = new IAMClient(config);
  const sqs = new SQSClient(config);
  try {
    const arns = await localResourceArns(resources, sqs);
    const credentials: Partial<Record<ServiceName, ServiceCredentials>> = {};
    for (const service of SERVICE_NAMES) {
      credentials[service] = await createUserWithGrants(
        iam,
        serviceUserName(service),
        SERVICE_PERMISSIONS[service],
        arns,
      );
    }
    const all = credentials as Record<ServiceName, ServiceCredentials>;
    const roleName = resources.storageRoleArn.split('/').at(-1);
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        // The bootstrap's policy name, so this one replaces it.
        PolicyName: 'blocks-read-write',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: policyStatements(STORAGE_ROLE_PERMISSIONS, arns),
        }),
      }),
    );
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: roleName,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: all.auth.userArn }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    return all;
  } finally {
    iam.destroy();
    sqs.destroy();
  }
}

/**
 * The IAM user of the storage garbage collector's task role: GARBAGE_COLLECTOR_PERMISSIONS, the
 * grants the CDK gives its scheduled task, the only role that may delete objects.
 */
export async function createCollectorUser(
  motoEndpoint: string,
  resources: BootstrappedResources,
): Promise<ServiceCredentials> {
  const config = { region: resources.region, endpoint: motoEndpoint, credentials: LOCAL_CREDENTIALS };
  const iam = new IAMClient(config);
  const sqs = new SQSClient(config);
  try {
    const arns = await localResourceArns(resources, sqs);
    return await createUserWithGrants(iam, 'filesync-contract-gc', GARBAGE_COLLECTOR_PERMISSIONS, arns);
  } finally {
    iam.destroy();
    sqs.destroy();
  }
}

/** One moto IAM user holding exactly `grants` (no policy at all when there are none), with an access key. */
async function createUserWithGrants(
  iam: IAMClient,
  userName: string,
  grants: readonly Grant[],
  arns: ResourceArns,
): Promise<ServiceCredentials> {
  const user = await iam.send(new CreateUserCommand({ UserName: userName }));
  const statements = motoStatements(policyStatements(grants, arns));
  // sync-diff has no grants: a user without any policy, denied every AWS call.
  if (statements.length > 0) {
    await iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'task-role',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
      }),
    );
  }
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
  const userArn = user.User?.Arn;
  if (!key?.AccessKeyId || !key.SecretAccessKey || !userArn) {
    throw new Error(`moto returned no access key for ${userName}`);
  }
  return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey, userArn };
}

/**
 * A user allowed everything, for the tests' own look at the emulators (queue depth, denied-call
 * probes): the services never get it.
 */
export async function createObserver(motoEndpoint: string, region: string): Promise<ServiceCredentials> {
  const iam = new IAMClient({ region, endpoint: motoEndpoint, credentials: LOCAL_CREDENTIALS });
  try {
    const userName = 'filesync-contract-observer';
    const user = await iam.send(new CreateUserCommand({ UserName: userName }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'observe',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
        }),
      }),
    );
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
    if (!key?.AccessKeyId || !key.SecretAccessKey || !user.User?.Arn) {
      throw new Error(`moto returned no access key for ${userName}`);
    }
    return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey, userArn: user.User.Arn };
  } finally {
    iam.destroy();
  }
}

/**
 * Switches moto's IAM checks on: from the next request on, every call must be signed by a known
 * access key whose policies allow the action on the resource (POST /moto-api/reset-auth with the
 * number of requests still let through unchecked).
 */
export async function enforceIamChecks(motoEndpoint: string): Promise<void> {
  const response = await fetch(`${motoEndpoint}/moto-api/reset-auth`, {
    method: 'POST',
    body: '0',
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`moto reset-auth answered ${response.status}`);
}

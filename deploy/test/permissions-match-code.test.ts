import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '@filesync/resources';
import { GARBAGE_COLLECTOR_PERMISSIONS, SERVICE_PERMISSIONS, type Grant } from '@filesync/resources';

/**
 * Reads each service's source (not its tests) for the AWS SDK calls it makes and maps them to the
 * IAM actions AWS authorises them with. The task role must grant every one of them and nothing
 * else, apart from the few actions AWS evaluates on the code's behalf (listed below).
 */
const CALL_TO_ACTIONS: readonly [RegExp, string][] = [
  [/\bnew GetCommand\(/, 'dynamodb:GetItem'],
  [/\bnew QueryCommand\(|\bpaginateQuery\(/, 'dynamodb:Query'],
  [/\bnew PutCommand\(|\bPut: \{/, 'dynamodb:PutItem'],
  [/\bnew UpdateCommand\(|\bUpdate: \{/, 'dynamodb:UpdateItem'],
  [/\bnew DeleteCommand\(|\bDelete: \{/, 'dynamodb:DeleteItem'],
  [/\bConditionCheck: \{/, 'dynamodb:ConditionCheckItem'],
  [/\bnew BatchGetCommand\(/, 'dynamodb:BatchGetItem'],
  [/\bnew BatchWriteCommand\(/, 'dynamodb:BatchWriteItem'],
  [/\bnew ScanCommand\(|\bpaginateScan\(/, 'dynamodb:Scan'],
  [/\bnew (HeadObject|GetObject)Command\(/, 's3:GetObject'],
  [/\bnew PutObjectCommand\(/, 's3:PutObject'],
  [/\bnew DeleteObjectCommand\(/, 's3:DeleteObject'],
  [/\bnew ListObjectsV2Command\(|\bpaginateListObjectsV2\(/, 's3:ListBucket'],
  // Evaluated by AWS for a HeadObject: without it a missing key answers 403 instead of 404.
  [/\bnew HeadObjectCommand\(/, 's3:ListBucket'],
  [/\bnew SendMessage(Batch)?Command\(/, 'sqs:SendMessage'],
  [/\bnew ReceiveMessageCommand\(/, 'sqs:ReceiveMessage'],
  [/\bnew DeleteMessage(Batch)?Command\(/, 'sqs:DeleteMessage'],
  [/\bnew ChangeMessageVisibility(Batch)?Command\(/, 'sqs:ChangeMessageVisibility'],
  [/\bnew CreateQueueCommand\(/, 'sqs:CreateQueue'],
  [/\bnew GetQueueAttributesCommand\(/, 'sqs:GetQueueAttributes'],
  [/\bnew SetQueueAttributesCommand\(/, 'sqs:SetQueueAttributes'],
  [/\bnew DeleteQueueCommand\(/, 'sqs:DeleteQueue'],
  [/\bnew PublishCommand\(/, 'sns:Publish'],
  [/\bnew SubscribeCommand\(/, 'sns:Subscribe'],
  [/\bnew UnsubscribeCommand\(/, 'sns:Unsubscribe'],
  [/\bnew SendEmailCommand\(/, 'ses:SendEmail'],
  [/\bnew AssumeRoleCommand\(/, 'sts:AssumeRole'],
];

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const servicesDir = join(__dirname, '..', '..', 'services');
/** The garbage collector job of metadata runs with a task role of its own: its code is apart. */
const collectorFiles = [
  ...sourceFiles(join(servicesDir, 'metadata', 'src', 'gc')),
  join(servicesDir, 'metadata', 'src', 'gc-main.ts'),
];

function actionsCalledIn(files: readonly string[]): string[] {
  const source = files.map((file) => readFileSync(file, 'utf8')).join('\n');
  return CALL_TO_ACTIONS.filter(([call]) => call.test(source)).map(([, action]) => action);
}

const serviceFiles = (service: ServiceName) =>
  sourceFiles(join(servicesDir, service, 'src')).filter((file) => !collectorFiles.includes(file));

const actionsOf = (grants: readonly Grant[]) => [...new Set(grants.flatMap((grant) => grant.actions))].sort();

describe.each(SERVICE_NAMES)('%s task role against its code', (service) => {
  it('grants every action the code calls, and only those', () => {
    expect(actionsOf(SERVICE_PERMISSIONS[service])).toEqual(
      [...new Set(actionsCalledIn(serviceFiles(service)))].sort(),
    );
  });
});

describe('garbage collector task role against its code', () => {
  it('grants every action the collector calls, and only those', () => {
    expect(actionsOf(GARBAGE_COLLECTOR_PERMISSIONS)).toEqual(
      [...new Set(actionsCalledIn(collectorFiles))].sort(),
    );
  });
});

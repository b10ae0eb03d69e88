import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '@filesync/resources';
import { SERVICE_PERMISSIONS } from '@filesync/resources';

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
  [/\bnew ListObjectsV2Command\(/, 's3:ListBucket'],
  // Evaluated by AWS for a HeadObject: without it a missing key answers 403 instead of 404.
  [/\bnew HeadObjectCommand\(/, 's3:ListBucket'],
  [/\bnew SendMessage(Batch)?Command\(/, 'sqs:SendMessage'],
  [/\bnew ReceiveMessageCommand\(/, 'sqs:ReceiveMessage'],
  [/\bnew DeleteMessage(Batch)?Command\(/, 'sqs:DeleteMessage'],
  [/\bnew ChangeMessageVisibility(Batch)?Command\(/, 'sqs:ChangeMessageVisibility'],
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

function actionsCalledBy(service: ServiceName): string[] {
  const source = sourceFiles(join(__dirname, '..', '..', 'services', service, 'src'))
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  return CALL_TO_ACTIONS.filter(([call]) => call.test(source)).map(([, action]) => action);
}

const granted = (service: ServiceName) =>
  new Set(SERVICE_PERMISSIONS[service].flatMap((grant) => grant.actions));

describe.each(SERVICE_NAMES)('%s task role against its code', (service) => {
  it('grants every action the code calls, and only those', () => {
    expect([...granted(service)].sort()).toEqual([...new Set(actionsCalledBy(service))].sort());
  });
});

import { ArnFormat } from 'aws-cdk-lib';
import { NAMESPACE_ADVANCED_TOPIC, TABLES, type ServiceName, type TableKey } from '@filesync/resources';
import {
  SERVICE_PERMISSIONS,
  STORAGE_ROLE_PERMISSIONS,
  policyStatements,
  type ResourceArns,
} from '@filesync/resources';
import {
  logicalId,
  normalizeStatements,
  resourcesOfType,
  statementsOfRole,
  synthesize,
  type Synthesized,
} from './synth';

let synth: Synthesized;
let arns: ResourceArns;
beforeAll(() => {
  synth = synthesize();
  const { main } = synth;
  arns = {
    tables: Object.fromEntries(
      (Object.keys(TABLES) as TableKey[]).map((key) => [key, main.data.tables[key].tableArn]),
    ) as Record<TableKey, string>,
    queue: main.data.queue.queueArn,
    advanceTopic: main.data.advanceTopic.topicArn,
    taskQueuesPrefix: main.formatArn({
      service: 'sqs',
      resource: NAMESPACE_ADVANCED_TOPIC.taskQueuePrefix,
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    }),
    bucket: main.data.blocksBucket.bucketArn,
    storageRole: main.storageRole.roleArn,
    mailIdentity: main.data.mailIdentity.emailIdentityArn,
  };
});

/** The statements permissions.ts defines, as CloudFormation will see them. */
const expectedStatements = (grants: Parameters<typeof policyStatements>[0]) =>
  normalizeStatements(synth.main.resolve(policyStatements(grants, arns)));

describe('task roles', () => {
  it.each(['auth', 'metadata', 'sync-diff', 'notifier'] as ServiceName[])(
    'the %s task role holds exactly the grants of permissions.ts',
    (name) => {
      const role = logicalId(synth.main, synth.main.services[name].taskRole);
      expect(statementsOfRole(synth.template, role)).toEqual(expectedStatements(SERVICE_PERMISSIONS[name]));
    },
  );

  it('lets only ECS tasks assume the task roles', () => {
    for (const service of Object.values(synth.main.services)) {
      const role = synth.template.toJSON().Resources[logicalId(synth.main, service.taskRole)];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } },
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('resolves concrete ARNs for the auth grants (table, storage role, mail identity)', () => {
    const statements = statementsOfRole(
      synth.template,
      logicalId(synth.main, synth.main.services.auth.taskRole),
    );
    expect(statements.map((statement) => statement.Resource)).toEqual([
      [{ 'Fn::GetAtt': [logicalId(synth.main, synth.main.data.tables.auth), 'Arn'] }],
      [{ 'Fn::GetAtt': [logicalId(synth.main, synth.main.storageRole), 'Arn'] }],
      expectedStatements([{ actions: ['ses:SendEmail'], on: { kind: 'mail-identity' } }])[0]?.Resource,
    ]);
  });

  it('reads the signing key only through the auth execution role', () => {
    const readers = Object.values(resourcesOfType(synth.template, 'AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('secretsmanager:GetSecretValue'),
    );
    expect(readers).toHaveLength(1);
    expect(readers[0]!.Properties.Roles).toEqual([
      { Ref: logicalId(synth.main, synth.main.services.auth.service.taskDefinition.executionRole!) },
    ]);
  });
});

describe('storage role', () => {
  it('can be assumed by the auth task role only', () => {
    const role = synth.template.toJSON().Resources[logicalId(synth.main, synth.main.storageRole)];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: {
          AWS: { 'Fn::GetAtt': [logicalId(synth.main, synth.main.services.auth.taskRole), 'Arn'] },
        },
      },
    ]);
    expect(role.Properties.MaxSessionDuration).toBe(3600);
  });

  it('allows only object reads and writes below ns/ of the blocks bucket', () => {
    const statements = statementsOfRole(synth.template, logicalId(synth.main, synth.main.storageRole));
    expect(statements).toEqual(expectedStatements(STORAGE_ROLE_PERMISSIONS));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: [
          {
            'Fn::Join': [
              '',
              [{ 'Fn::GetAtt': [logicalId(synth.main, synth.main.data.blocksBucket), 'Arn'] }, '/ns/*'],
            ],
          },
        ],
      },
    ]);
  });
});

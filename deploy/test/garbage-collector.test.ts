import { ArnFormat } from 'aws-cdk-lib';
import {
  GARBAGE_COLLECTION,
  GARBAGE_COLLECTOR_PERMISSIONS,
  NAMESPACE_ADVANCED_TOPIC,
  TABLES,
  type TableKey,
} from '@filesync/resources';
import { policyStatements, type ResourceArns } from '@filesync/resources';
import { COLLECTOR_BUNDLE } from '../src/garbage-collector';
import { IMAGE_LAYOUT } from '../src/service';
import {
  logicalId,
  normalizeStatements,
  resourcesOfType,
  statementsOfRole,
  synthesize,
  type Synthesized,
} from './synth';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ 'filesync:imageTag': 'abc123' });
});

const collector = () => synth.main.garbageCollector;
const resource = (construct: { node: { defaultChild?: unknown } }) =>
  synth.template.toJSON().Resources[logicalId(synth.main, construct)];

describe('garbage collector scheduled task', () => {
  it('holds exactly the grants of GARBAGE_COLLECTOR_PERMISSIONS in a task role of its own', () => {
    const { main } = synth;
    const arns: ResourceArns = {
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
    const role = logicalId(main, collector().taskRole);
    expect(statementsOfRole(synth.template, role)).toEqual(
      normalizeStatements(main.resolve(policyStatements(GARBAGE_COLLECTOR_PERMISSIONS, arns))),
    );
    expect(role).not.toBe(logicalId(main, main.services.metadata.taskRole));
    expect(resource(collector().taskRole).Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } },
    ]);
  });

  it("runs the metadata image with the collector's bundle as its command and only the variables it reads", () => {
    const task = resource(collector().taskDefinition).Properties;
    const metadataTask = resource(synth.main.services.metadata.service.taskDefinition).Properties;
    expect(task.ContainerDefinitions).toHaveLength(1);
    const [container] = task.ContainerDefinitions;
    expect(container.Image).toEqual(metadataTask.ContainerDefinitions[0].Image);
    expect(container.EntryPoint).toEqual([IMAGE_LAYOUT.node]);
    expect(container.Command).toEqual([COLLECTOR_BUNDLE, '--json']);
    expect(container.ReadonlyRootFilesystem).toBe(true);
    expect(container.PortMappings).toBeUndefined();
    expect(container.Environment.map((variable: { Name: string }) => variable.Name).sort()).toEqual(
      ['AWS_REGION', 'FILESYNC_BLOCKS_BUCKET', 'FILESYNC_LOG_LEVEL', 'FILESYNC_METADATA_TABLE'].sort(),
    );
    expect(task.TaskRoleArn).toEqual({ 'Fn::GetAtt': [logicalId(synth.main, collector().taskRole), 'Arn'] });
  });

  it('is started by an EventBridge rule on the schedule, on EC2 in the private subnets, accepting no inbound traffic', () => {
    const rule = resource(collector().rule).Properties;
    expect(rule.ScheduleExpression).toBe(GARBAGE_COLLECTION.schedule);
    expect(rule.State).toBe('ENABLED');
    expect(rule.Targets).toHaveLength(1);
    const [target] = rule.Targets;
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    expect(target.EcsParameters).toMatchObject({
      LaunchType: 'EC2',
      TaskCount: 1,
      TaskDefinitionArn: { Ref: logicalId(synth.main, collector().taskDefinition) },
      NetworkConfiguration: {
        AwsVpcConfiguration: {
          AssignPublicIp: 'DISABLED',
          SecurityGroups: [{ 'Fn::GetAtt': [logicalId(synth.main, collector().securityGroup), 'GroupId'] }],
        },
      },
    });
    const group = resource(collector().securityGroup).Properties;
    expect(group.SecurityGroupIngress).toBeUndefined();
  });

  it("lets the schedule's role start the task and pass its roles, nothing more", () => {
    const eventsRole = collector().taskDefinition.node.findChild('EventsRole') as never;
    const statements = statementsOfRole(synth.template, logicalId(synth.main, eventsRole));
    expect([...new Set(statements.flatMap((statement) => statement.Action))].sort()).toEqual([
      'ecs:RunTask',
      'ecs:TagResource',
      'iam:PassRole',
    ]);
    const passed = statements
      .filter((statement) => statement.Action.includes('iam:PassRole'))
      .flatMap((statement) => statement.Resource);
    const arnOf = (role: { node: { defaultChild?: unknown } }) => ({
      'Fn::GetAtt': [logicalId(synth.main, role), 'Arn'],
    });
    expect(passed).toEqual(
      expect.arrayContaining([
        arnOf(collector().taskRole),
        arnOf(collector().taskDefinition.executionRole as never),
      ]),
    );
    expect(passed).toHaveLength(2);
    expect(Object.keys(resourcesOfType(synth.template, 'AWS::Events::Rule'))).toEqual([
      logicalId(synth.main, collector().rule),
    ]);
  });
});

import { Match } from 'aws-cdk-lib/assertions';
import {
  BLOCKS_BUCKET,
  CHANGE_EVENTS_QUEUE,
  MAIL_SENDER,
  TABLES,
  TRASH_INDEX,
  type TableKey,
} from '@filesync/resources';
import { logicalId, resourcesOfType, synthesize, type Synthesized } from './synth';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

describe('network', () => {
  it('spans two availability zones without a lookup, with one NAT gateway', () => {
    const subnets = Object.values(resourcesOfType(synth.template, 'AWS::EC2::Subnet'));
    expect(subnets).toHaveLength(4);
    const zones = subnets.map((subnet) => JSON.stringify(subnet.Properties.AvailabilityZone));
    expect(new Set(zones)).toEqual(
      new Set([0, 1].map((index) => JSON.stringify({ 'Fn::Select': [index, { 'Fn::GetAZs': '' }] }))),
    );
    synth.template.resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  it('uses fixed zones from context when given', () => {
    const pinned = synthesize({ 'filesync:availabilityZones': ['eu-west-1a', 'eu-west-1b'] });
    const zones = Object.values(resourcesOfType(pinned.template, 'AWS::EC2::Subnet')).map(
      (subnet) => subnet.Properties.AvailabilityZone,
    );
    expect(new Set(zones)).toEqual(new Set(['eu-west-1a', 'eu-west-1b']));
  });

  it('reaches S3 and DynamoDB through gateway endpoints and logs rejected flows', () => {
    for (const service of ['s3', 'dynamodb']) {
      synth.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Join': ['', Match.arrayWith([`.${service}`])] },
      });
    }
    synth.template.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
  });
});

describe('compute capacity', () => {
  it('runs an ECS cluster with Container Insights on an EC2 capacity provider with managed scaling', () => {
    synth.template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    synth.template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: {
        AutoScalingGroupArn: { Ref: Match.anyValue() },
        ManagedScaling: { Status: 'ENABLED', TargetCapacity: 100 },
        ManagedTerminationProtection: 'ENABLED',
        ManagedDraining: 'ENABLED',
      },
    });
    synth.template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: [{ Ref: Match.stringLikeRegexp('^CapacityCapacityProvider') }],
      DefaultCapacityProviderStrategy: [
        { CapacityProvider: { Ref: Match.stringLikeRegexp('^CapacityCapacityProvider') }, Weight: 1 },
      ],
    });
  });

  it('launches encrypted, IMDSv2-only instances in private subnets that block task access to IMDS', () => {
    synth.template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '2',
      MaxSize: '8',
      NewInstancesProtectedFromScaleIn: true,
    });
    synth.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 't3.small',
        MetadataOptions: { HttpTokens: 'required' },
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 30, VolumeType: 'gp3' } },
        ],
        UserData: {
          'Fn::Base64': {
            'Fn::Join': [
              '',
              Match.arrayWith([
                ' >> /etc/ecs/ecs.config\necho ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config',
              ]),
            ],
          },
        },
      }),
    });
  });
});

describe('data stores', () => {
  it.each(Object.keys(TABLES) as TableKey[])(
    'creates the %s table on demand with PITR and its TTL',
    (key) => {
      const table = TABLES[key];
      synth.template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        Properties: {
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          TimeToLiveSpecification:
            'ttlAttribute' in table ? { AttributeName: table.ttlAttribute, Enabled: true } : Match.absent(),
        },
      });
      expect(logicalId(synth.main, synth.main.data.tables[key])).toContain(table.id);
    },
  );

  it('gives the metadata table the sparse trash index of its definition', () => {
    const metadata =
      synth.template.toJSON().Resources[logicalId(synth.main, synth.main.data.tables.metadata)];
    expect(metadata.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: TRASH_INDEX.name,
        KeySchema: [
          { AttributeName: TRASH_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: TRASH_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...TRASH_INDEX.projectedAttributes] },
      },
    ]);
    expect(metadata.Properties.AttributeDefinitions).toEqual(
      ['pk', 'sk', TRASH_INDEX.partitionKey, TRASH_INDEX.sortKey].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
    );
  });

  it('encrypts the blocks bucket, blocks public access, logs access and aborts stale uploads', () => {
    synth.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: logicalId(synth.main, synth.main.data.accessLogsBucket) },
      },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'abort-incomplete-uploads',
            Status: 'Enabled',
            AbortIncompleteMultipartUpload: {
              DaysAfterInitiation: BLOCKS_BUCKET.abortIncompleteUploadsAfterDays,
            },
          },
        ],
      },
    });
  });

  it('denies every request to the blocks bucket that is not TLS', () => {
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(synth.main, synth.main.data.blocksBucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('encrypts the change-event queue and moves poison messages to the dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: CHANGE_EVENTS_QUEUE.visibilityTimeoutSeconds,
      MessageRetentionPeriod: CHANGE_EVENTS_QUEUE.retentionSeconds,
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [logicalId(synth.main, synth.main.data.deadLetterQueue), 'Arn'],
        },
        maxReceiveCount: CHANGE_EVENTS_QUEUE.maxReceiveCount,
      },
    });
    synth.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: CHANGE_EVENTS_QUEUE.deadLetter.retentionSeconds,
    });
    for (const queue of [synth.main.data.queue, synth.main.data.deadLetterQueue]) {
      synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(synth.main, queue) }],
        PolicyDocument: {
          Statement: [
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ],
        },
      });
    }
  });

  it('has the push topic, TLS only, that metadata tasks subscribe their own queues to', () => {
    const topic = logicalId(synth.main, synth.main.data.advanceTopic);
    expect(Object.keys(resourcesOfType(synth.template, 'AWS::SNS::Topic'))).toContain(topic);
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
    // The per-task queues come and go with the tasks: none is part of the stack besides the two
    // change-event queues.
    expect(Object.keys(resourcesOfType(synth.template, 'AWS::SQS::Queue'))).toHaveLength(2);
  });

  it('verifies the default sender address, or the domain given in context', () => {
    synth.template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: MAIL_SENDER.defaultAddress,
    });
    const custom = synthesize({
      'filesync:mailFrom': 'sync@example.com',
      'filesync:mailIdentity': 'example.com',
    });
    custom.template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'example.com' });
  });
});

describe('logs and alarms', () => {
  it('keeps every log group for the configured retention', () => {
    const groups = Object.values(resourcesOfType(synth.template, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(6);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('alarms on any message in the dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(synth.main, synth.main.data.deadLetterQueue), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms on unhealthy targets of every service', () => {
    const alarms = Object.values(resourcesOfType(synth.template, 'AWS::CloudWatch::Alarm')).filter(
      (alarm) => alarm.Properties.MetricName === 'UnHealthyHostCount',
    );
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/NetworkELB',
        Statistic: 'Maximum',
        Threshold: 1,
      });
    }
  });

  it('notifies the alarm topic given in context', () => {
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:ops';
    const withTopic = synthesize({ 'filesync:alarmTopicArn': topicArn });
    const alarms = Object.values(resourcesOfType(withTopic.template, 'AWS::CloudWatch::Alarm'));
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
  });
});

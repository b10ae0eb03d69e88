import { Match } from 'aws-cdk-lib/assertions';
import { RETENTION, SERVICE_NAMES, SERVICE_PORTS, type ServiceName } from '@filesync/resources';
import { SIGNING_KEY_ENV } from '../src/environment';
import { NOTIFIER_BACKLOG_PER_TASK, pascal } from '../src/filesync-stack';
import { IMAGE_LAYOUT, TARGET_HEALTH_CHECK_PATH } from '../src/service';
import { logicalId, resourcesOfType, synthesize, type Synthesized } from './synth';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ 'filesync:imageTag': 'abc123' });
});

const serviceOf = (name: ServiceName) => synth.main.services[name];
const taskDefinitionOf = (name: ServiceName) =>
  synth.template.toJSON().Resources[logicalId(synth.main, serviceOf(name).service.taskDefinition)].Properties;

/** Every variable a service reads, as the brief lists them. */
const EXPECTED_VARIABLES: Record<ServiceName, string[]> = {
  auth: ['FILESYNC_AUTH_TABLE', 'FILESYNC_STORAGE_ROLE_ARN', 'FILESYNC_BLOCKS_BUCKET', 'FILESYNC_MAIL_FROM'],
  metadata: [
    'FILESYNC_METADATA_TABLE',
    'FILESYNC_OUTBOX_TABLE',
    'FILESYNC_BLOCKS_BUCKET',
    'FILESYNC_CHANGE_EVENTS_QUEUE_URL',
    'FILESYNC_AUTH_ADDRESS',
    'FILESYNC_RETENTION_DAYS',
    'FILESYNC_NAMESPACE_ADVANCED_TOPIC_ARN',
  ],
  'sync-diff': ['FILESYNC_AUTH_ADDRESS', 'FILESYNC_METADATA_ADDRESS'],
  notifier: [
    'FILESYNC_NOTIFIER_TABLE',
    'FILESYNC_CHANGE_EVENTS_QUEUE_URL',
    'FILESYNC_MAIL_FROM',
    'FILESYNC_AUTH_ADDRESS',
  ],
};
const COMMON_VARIABLES = [
  'FILESYNC_BIND_HOST',
  'FILESYNC_GRPC_PORT',
  'FILESYNC_METRICS_PORT',
  'FILESYNC_LOG_LEVEL',
  'FILESYNC_SHUTDOWN_GRACE_MS',
  'AWS_REGION',
];

describe.each(SERVICE_NAMES)('%s service', (name) => {
  const ports = SERVICE_PORTS[name];

  it('runs on the EC2 capacity provider with awsvpc networking, rolling back failed deployments', () => {
    synth.template.hasResourceProperties('AWS::ECS::Service', {
      TaskDefinition: { Ref: logicalId(synth.main, serviceOf(name).service.taskDefinition) },
      CapacityProviderStrategy: [{ CapacityProvider: { Ref: Match.anyValue() }, Weight: 1 }],
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          AssignPublicIp: 'DISABLED',
          SecurityGroups: [
            { 'Fn::GetAtt': [logicalId(synth.main, serviceOf(name).securityGroup), 'GroupId'] },
          ],
        },
      },
      LoadBalancers: [
        {
          ContainerName: 'app',
          ContainerPort: ports.grpc,
          TargetGroupArn: { Ref: logicalId(synth.main, serviceOf(name).targetGroup) },
        },
      ],
      ServiceRegistries: [{ RegistryArn: Match.anyValue() }],
    });
    expect(taskDefinitionOf(name)).toMatchObject({
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['EC2'],
      TaskRoleArn: { 'Fn::GetAtt': [logicalId(synth.main, serviceOf(name).taskRole), 'Arn'] },
    });
  });

  it('runs the image of the configured tag with a gRPC health probe, read-only, logging to its group', () => {
    const [container] = taskDefinitionOf(name).ContainerDefinitions;
    expect(JSON.stringify(container.Image)).toContain(':abc123');
    expect(container).toMatchObject({
      HealthCheck: { Command: ['CMD', IMAGE_LAYOUT.node, IMAGE_LAYOUT.healthProbe], Retries: 3 },
      ReadonlyRootFilesystem: true,
      StopTimeout: 30,
      PortMappings: [
        { ContainerPort: ports.grpc, Protocol: 'tcp' },
        { ContainerPort: ports.metrics, Protocol: 'tcp' },
      ].map((mapping) => expect.objectContaining(mapping)),
      LogConfiguration: {
        LogDriver: 'awslogs',
        Options: expect.objectContaining({
          'awslogs-group': { Ref: logicalId(synth.main, serviceOf(name).logGroup) },
        }),
      },
    });
  });

  it('gets exactly the variables the service reads', () => {
    const [container] = taskDefinitionOf(name).ContainerDefinitions;
    const variables = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((variable) => [
        variable.Name,
        variable.Value,
      ]),
    );
    expect(Object.keys(variables).sort()).toEqual([...COMMON_VARIABLES, ...EXPECTED_VARIABLES[name]].sort());
    expect(variables).toMatchObject({
      FILESYNC_BIND_HOST: '0.0.0.0',
      FILESYNC_GRPC_PORT: String(ports.grpc),
      FILESYNC_METRICS_PORT: String(ports.metrics),
      AWS_REGION: { Ref: 'AWS::Region' },
    });
    if ('FILESYNC_AUTH_ADDRESS' in variables)
      expect(variables.FILESYNC_AUTH_ADDRESS).toBe('auth.filesync.internal:50051');
    if ('FILESYNC_METADATA_ADDRESS' in variables) {
      expect(variables.FILESYNC_METADATA_ADDRESS).toBe('metadata.filesync.internal:50052');
    }
    // The retention period comes from the same constant the service defaults to (30 days).
    if (name === 'metadata') expect(variables.FILESYNC_RETENTION_DAYS).toBe(String(RETENTION.defaultDays));
    // Push between tasks: every metadata task publishes to, and subscribes its queue to, the topic.
    if (name === 'metadata') {
      expect(variables.FILESYNC_NAMESPACE_ADVANCED_TOPIC_ARN).toEqual({
        Ref: logicalId(synth.main, synth.main.data.advanceTopic),
      });
    }
    if (name === 'auth') {
      expect(container.Secrets).toEqual([{ Name: SIGNING_KEY_ENV, ValueFrom: expect.anything() }]);
    } else {
      expect(container.Secrets).toBeUndefined();
    }
  });

  it('has an NLB listener on its gRPC port and targets health-checked on the metrics port', () => {
    synth.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: ports.grpc,
      Protocol: 'TCP',
      DefaultActions: [
        { Type: 'forward', TargetGroupArn: { Ref: logicalId(synth.main, serviceOf(name).targetGroup) } },
      ],
    });
    synth.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: ports.grpc,
      Protocol: 'TCP',
      TargetType: 'ip',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: String(ports.metrics),
      HealthCheckPath: TARGET_HEALTH_CHECK_PATH,
      Matcher: { HttpCode: '200' },
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: '30' },
        { Key: 'deregistration_delay.connection_termination.enabled', Value: 'true' },
      ]),
    });
  });

  it('accepts gRPC and health checks from the load balancer only', () => {
    const sg = logicalId(synth.main, serviceOf(name).securityGroup);
    const nlbSg = { 'Fn::GetAtt': [Match.stringLikeRegexp('^LoadBalancerSecurityGroup'), 'GroupId'] };
    for (const port of [ports.grpc, ports.metrics]) {
      synth.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [sg, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: port,
        ToPort: port,
        SourceSecurityGroupId: nlbSg,
      });
    }
  });

  it('tracks CPU between the configured task counts', () => {
    synth.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ResourceId: {
        'Fn::Join': [
          '',
          Match.arrayWith([{ 'Fn::GetAtt': [logicalId(synth.main, serviceOf(name).service), 'Name'] }]),
        ],
      },
      ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 1,
      MaxCapacity: 6,
    });
    const policies = Object.values(
      resourcesOfType(synth.template, 'AWS::ApplicationAutoScaling::ScalingPolicy'),
    );
    const cpu = policies.filter(
      (policy) =>
        policy.Properties.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification
          ?.PredefinedMetricType === 'ECSServiceAverageCPUUtilization' &&
        String(policy.Properties.ScalingTargetId.Ref).startsWith(`${pascal(name)}ServiceTaskCountTarget`),
    );
    expect(cpu).toHaveLength(1);
    expect(cpu[0]!.Properties.TargetTrackingScalingPolicyConfiguration.TargetValue).toBe(60);
  });
});

describe('load balancer', () => {
  it('is internet-facing in the public subnets behind its own security group, open on the gRPC ports only', () => {
    synth.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internet-facing',
      SecurityGroups: [Match.anyValue()],
    });
    const [nlbSg] = Object.entries(resourcesOfType(synth.template, 'AWS::EC2::SecurityGroup')).filter(
      ([id]) => id.startsWith('LoadBalancerSecurityGroup'),
    );
    const open = (
      nlbSg![1].Properties.SecurityGroupIngress as { CidrIp: string; FromPort: number; ToPort: number }[]
    ).map((rule) => [rule.CidrIp, rule.FromPort, rule.ToPort]);
    expect(open).toEqual(
      SERVICE_NAMES.map((name) => ['0.0.0.0/0', SERVICE_PORTS[name].grpc, SERVICE_PORTS[name].grpc]),
    );
  });

  it('terminates TLS with HTTP/2 ALPN on every listener when a certificate is given', () => {
    const certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    const tls = synthesize({ 'filesync:certificateArn': certificateArn });
    const listeners = Object.values(resourcesOfType(tls.template, 'AWS::ElasticLoadBalancingV2::Listener'));
    expect(listeners).toHaveLength(4);
    for (const listener of listeners) {
      expect(listener.Properties).toMatchObject({
        Protocol: 'TLS',
        Certificates: [{ CertificateArn: certificateArn }],
        AlpnPolicy: ['HTTP2Only'],
        SslPolicy: expect.stringMatching(/^ELBSecurityPolicy-TLS13/),
      });
    }
  });
});

describe('service-to-service traffic', () => {
  it.each([
    ['auth', 'metadata'],
    ['auth', 'sync-diff'],
    ['auth', 'notifier'],
    ['metadata', 'sync-diff'],
  ] as [ServiceName, ServiceName][])('lets %s accept gRPC from %s', (callee, caller) => {
    synth.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [logicalId(synth.main, serviceOf(callee).securityGroup), 'GroupId'] },
      FromPort: SERVICE_PORTS[callee].grpc,
      SourceSecurityGroupId: {
        'Fn::GetAtt': [logicalId(synth.main, serviceOf(caller).securityGroup), 'GroupId'],
      },
    });
  });

  it('lets nobody call sync-diff or the notifier except through the load balancer', () => {
    for (const callee of ['sync-diff', 'notifier'] as ServiceName[]) {
      const sg = logicalId(synth.main, serviceOf(callee).securityGroup);
      const sources = Object.values(resourcesOfType(synth.template, 'AWS::EC2::SecurityGroupIngress'))
        .filter((rule) => rule.Properties.GroupId['Fn::GetAtt']?.[0] === sg)
        .map((rule) => rule.Properties.SourceSecurityGroupId['Fn::GetAtt'][0]);
      expect(sources).toHaveLength(2);
      for (const source of sources) expect(source).toMatch(/^LoadBalancerSecurityGroup/);
    }
  });

  it('registers every service under the private DNS namespace', () => {
    synth.template.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', {
      Name: 'filesync.internal',
    });
    for (const name of SERVICE_NAMES) {
      synth.template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
        Name: name,
        DnsConfig: { DnsRecords: [{ Type: 'A', TTL: 10 }] },
      });
    }
  });
});

describe('notifier backlog scaling', () => {
  it('tracks visible messages per running notifier task', () => {
    synth.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      ScalingTargetId: { Ref: Match.stringLikeRegexp('^NotifierServiceTaskCountTarget') },
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: NOTIFIER_BACKLOG_PER_TASK,
        CustomizedMetricSpecification: {
          Metrics: [
            {
              Id: 'visible',
              ReturnData: false,
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/SQS',
                  MetricName: 'ApproximateNumberOfMessagesVisible',
                  Dimensions: [
                    {
                      Name: 'QueueName',
                      Value: { 'Fn::GetAtt': [logicalId(synth.main, synth.main.data.queue), 'QueueName'] },
                    },
                  ],
                },
                Stat: 'Sum',
              },
            },
            {
              Id: 'tasks',
              ReturnData: false,
              MetricStat: {
                Metric: {
                  Namespace: 'ECS/ContainerInsights',
                  MetricName: 'RunningTaskCount',
                  Dimensions: [
                    { Name: 'ClusterName', Value: { Ref: Match.stringLikeRegexp('^CapacityCluster') } },
                    {
                      Name: 'ServiceName',
                      Value: { 'Fn::GetAtt': [logicalId(synth.main, serviceOf('notifier').service), 'Name'] },
                    },
                  ],
                },
                Stat: 'Average',
              },
            },
            {
              Id: 'backlogPerTask',
              Expression: 'visible / tasks',
              ReturnData: true,
              Label: Match.anyValue(),
            },
          ],
        },
      },
    });
  });
});

import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import {
  NAMESPACE_ADVANCED_TOPIC,
  SERVICE_NAMES,
  SERVICE_PORTS,
  STORAGE_ROLE,
  TABLES,
  type ServiceName,
  type TableKey,
} from '@filesync/resources';
import { Alarms } from './alarms';
import { ComputeCapacity, INTERNAL_NAMESPACE } from './capacity';
import type { DeployConfig } from './config';
import { DataStores } from './data';
import { collectorEnvironment, SIGNING_KEY_ENV, serviceEnvironment } from './environment';
import { GarbageCollectorTask } from './garbage-collector';
import { Network } from './network';
import {
  GARBAGE_COLLECTOR_PERMISSIONS,
  SERVICE_PERMISSIONS,
  STORAGE_ROLE_PERMISSIONS,
  policyStatements,
  type Grant,
  type ResourceArns,
} from '@filesync/resources';
import { FilesyncService, SHUTDOWN_GRACE } from './service';

export interface FilesyncStackProps extends StackProps {
  readonly config: DeployConfig;
  readonly repositories: Readonly<Record<ServiceName, ecr.IRepository>>;
  readonly signingKey: secretsmanager.ISecret;
}

/** Messages waiting per running notifier task that target tracking aims for. */
export const NOTIFIER_BACKLOG_PER_TASK = 100;

/** Which services call which over gRPC inside the VPC (callee -> callers). */
const CALLERS: Readonly<Record<ServiceName, readonly ServiceName[]>> = {
  auth: ['metadata', 'sync-diff', 'notifier'],
  metadata: ['sync-diff'],
  'sync-diff': [],
  notifier: [],
};

/** The filesync platform: network, capacity, data stores, the four services behind one NLB. */
export class FilesyncStack extends Stack {
  readonly data: DataStores;
  readonly services: Readonly<Record<ServiceName, FilesyncService>>;
  readonly garbageCollector: GarbageCollectorTask;
  readonly storageRole: iam.Role;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;

  constructor(scope: Construct, id: string, props: FilesyncStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = retentionDays(config.logRetentionDays);

    const { vpc } = new Network(this, 'Network', {
      availabilityZones: config.availabilityZones,
      natGateways: config.natGateways,
      logRetention,
    });
    const capacity = new ComputeCapacity(this, 'Capacity', {
      vpc,
      instanceType: config.instanceType,
      minInstances: config.minInstances,
      maxInstances: config.maxInstances,
    });
    this.data = new DataStores(this, 'Data', { mailIdentity: config.mailIdentity });

    const taskRoles = {} as Record<ServiceName, iam.Role>;
    for (const name of SERVICE_NAMES) {
      taskRoles[name] = new iam.Role(this, `${pascal(name)}TaskRole`, {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: `filesync ${name} tasks: only what the ${name} code calls`,
      });
    }
    this.storageRole = new iam.Role(this, STORAGE_ROLE.id, {
      // Only the auth task role may assume it; auth narrows each session to the caller's namespaces.
      assumedBy: new iam.ArnPrincipal(taskRoles.auth.roleArn),
      description: 'filesync client storage access, narrowed per user by the session policy of auth',
      maxSessionDuration: Duration.hours(1),
    });

    const arns: ResourceArns = {
      tables: mapTables((key) => this.data.tables[key].tableArn),
      queue: this.data.queue.queueArn,
      advanceTopic: this.data.advanceTopic.topicArn,
      taskQueuesPrefix: this.formatArn({
        service: 'sqs',
        resource: NAMESPACE_ADVANCED_TOPIC.taskQueuePrefix,
        arnFormat: ArnFormat.NO_RESOURCE_NAME,
      }),
      bucket: this.data.blocksBucket.bucketArn,
      storageRole: this.storageRole.roleArn,
      mailIdentity: this.data.mailIdentity.emailIdentityArn,
    };
    attachGrants(this.storageRole, STORAGE_ROLE_PERMISSIONS, arns);
    for (const name of SERVICE_NAMES) attachGrants(taskRoles[name], SERVICE_PERMISSIONS[name], arns);
    // The collector deletes what the metadata service never may: a role of its own.
    const collectorRole = new iam.Role(this, 'GarbageCollectorTaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'filesync storage garbage collector task: only what the collector code calls',
    });
    attachGrants(collectorRole, GARBAGE_COLLECTOR_PERMISSIONS, arns);

    const loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: 'filesync NLB: public gRPC listeners',
      allowAllOutbound: true,
    });
    for (const name of SERVICE_NAMES) {
      loadBalancerSecurityGroup.addIngressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(SERVICE_PORTS[name].grpc),
        `${name} gRPC from clients`,
      );
    }
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      crossZoneEnabled: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [loadBalancerSecurityGroup],
    });

    const internalAddress = (name: ServiceName) =>
      `${name}.${INTERNAL_NAMESPACE}:${SERVICE_PORTS[name].grpc}`;
    const services = {} as Record<ServiceName, FilesyncService>;
    for (const name of SERVICE_NAMES) {
      services[name] = new FilesyncService(this, pascal(name), {
        name,
        taskRole: taskRoles[name],
        cluster: capacity.cluster,
        capacityProvider: capacity.capacityProvider,
        image: ecs.ContainerImage.fromEcrRepository(props.repositories[name], config.imageTag),
        environment: serviceEnvironment(name, {
          region: this.region,
          tableNames: mapTables((key) => this.data.tables[key].tableName),
          bucketName: this.data.blocksBucket.bucketName,
          queueUrl: this.data.queue.queueUrl,
          advanceTopicArn: this.data.advanceTopic.topicArn,
          storageRoleArn: this.storageRole.roleArn,
          mailFrom: config.mailFrom,
          authAddress: internalAddress('auth'),
          metadataAddress: internalAddress('metadata'),
          shutdownGraceMs: SHUTDOWN_GRACE.toMilliseconds(),
          retentionDays: config.retentionDays,
        }),
        secrets:
          name === 'auth'
            ? { [SIGNING_KEY_ENV]: ecs.Secret.fromSecretsManager(props.signingKey) }
            : undefined,
        logRetention,
        minTasks: config.minTasks,
        maxTasks: config.maxTasks,
        loadBalancer: this.loadBalancer,
        loadBalancerSecurityGroup,
        certificateArn: config.certificateArn,
      });
    }
    for (const callee of SERVICE_NAMES) {
      for (const caller of CALLERS[callee]) services[callee].allowGrpcFrom(services[caller]);
    }
    this.services = services;

    this.garbageCollector = new GarbageCollectorTask(this, 'GarbageCollector', {
      cluster: capacity.cluster,
      image: ecs.ContainerImage.fromEcrRepository(props.repositories.metadata, config.imageTag),
      taskRole: collectorRole,
      environment: collectorEnvironment({
        region: this.region,
        tableNames: mapTables((key) => this.data.tables[key].tableName),
        bucketName: this.data.blocksBucket.bucketName,
        queueUrl: this.data.queue.queueUrl,
        advanceTopicArn: this.data.advanceTopic.topicArn,
        storageRoleArn: this.storageRole.roleArn,
        mailFrom: config.mailFrom,
        authAddress: internalAddress('auth'),
        metadataAddress: internalAddress('metadata'),
        shutdownGraceMs: SHUTDOWN_GRACE.toMilliseconds(),
        retentionDays: config.retentionDays,
      }),
      logRetention,
    });

    this.scaleNotifierOnBacklog(services.notifier, capacity.cluster);

    new Alarms(this, 'Alarms', {
      deadLetterQueue: this.data.deadLetterQueue,
      targetGroups: SERVICE_NAMES.map((name) => ({ name, targetGroup: services[name].targetGroup })),
      alarmTopicArn: config.alarmTopicArn,
    });

    new CfnOutput(this, 'LoadBalancerDnsName', { value: this.loadBalancer.loadBalancerDnsName });
    new CfnOutput(this, 'BlocksBucketName', { value: this.data.blocksBucket.bucketName });
  }

  /**
   * Backlog per task = visible messages / running notifier tasks, tracked at a target. The L2
   * target-tracking policy takes single metrics only, so this one is written as the L1 resource.
   */
  private scaleNotifierOnBacklog(notifier: FilesyncService, cluster: ecs.ICluster): void {
    new appscaling.CfnScalingPolicy(this, 'NotifierBacklogScaling', {
      policyName: `${this.stackName}-notifier-backlog-per-task`,
      policyType: 'TargetTrackingScaling',
      // The same reference the L2 target-tracking policies use (the ScalableTarget's Ref).
      scalingTargetId: notifier.scaling.scalableTargetRef.resourceId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: NOTIFIER_BACKLOG_PER_TASK,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: {
          metrics: [
            {
              id: 'visible',
              returnData: false,
              metricStat: {
                metric: {
                  namespace: 'AWS/SQS',
                  metricName: 'ApproximateNumberOfMessagesVisible',
                  dimensions: [{ name: 'QueueName', value: this.data.queue.queueName }],
                },
                stat: 'Sum',
              },
            },
            {
              id: 'tasks',
              returnData: false,
              metricStat: {
                metric: {
                  namespace: 'ECS/ContainerInsights',
                  metricName: 'RunningTaskCount',
                  dimensions: [
                    { name: 'ClusterName', value: cluster.clusterName },
                    { name: 'ServiceName', value: notifier.service.serviceName },
                  ],
                },
                stat: 'Average',
              },
            },
            {
              id: 'backlogPerTask',
              expression: 'visible / tasks',
              label: 'Backlog per task',
              returnData: true,
            },
          ],
        },
      },
    });
  }
}

function attachGrants(role: iam.Role, grants: readonly Grant[], arns: ResourceArns): void {
  for (const statement of policyStatements(grants, arns)) {
    role.addToPolicy(new iam.PolicyStatement({ actions: statement.Action, resources: statement.Resource }));
  }
}

function mapTables(value: (key: TableKey) => string): Record<TableKey, string> {
  const entries = (Object.keys(TABLES) as TableKey[]).map((key) => [key, value(key)] as const);
  return Object.fromEntries(entries) as Record<TableKey, string>;
}

/** `sync-diff` -> `SyncDiff`: construct ids. */
export function pascal(name: string): string {
  return name.replace(/(^|-)(\w)/g, (_, _dash: string, letter: string) => letter.toUpperCase());
}

function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter(
    (value): value is number => typeof value === 'number',
  );
  if (!allowed.includes(days)) {
    throw new Error(
      `filesync:logRetentionDays must be one of ${allowed.join(', ')} (CloudWatch Logs retention)`,
    );
  }
  return days as logs.RetentionDays;
}

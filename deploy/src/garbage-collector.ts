import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GARBAGE_COLLECTION } from '@filesync/resources';
import { IMAGE_LAYOUT } from './service';

/** Where the metadata image puts the collector's bundle (deploy/images/build.mjs, JOBS). */
export const COLLECTOR_BUNDLE = '/app/gc.mjs';

export interface GarbageCollectorProps {
  readonly cluster: ecs.ICluster;
  /** The metadata service's image: the collector is one of its jobs. */
  readonly image: ecs.ContainerImage;
  /** Holds exactly GARBAGE_COLLECTOR_PERMISSIONS (attached by the stack). */
  readonly taskRole: iam.Role;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The storage garbage collector as an ECS scheduled task: the metadata image with the entry point
 * pointed at the collector's bundle, started by an EventBridge rule on GARBAGE_COLLECTION.schedule.
 * It serves nothing, so its security group admits no inbound traffic. One run at a time is what
 * the schedule gives (a run takes far less than the interval); the collector's conditional writes
 * keep even two overlapping runs from deleting anything referenced.
 */
export class GarbageCollectorTask extends Construct {
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly taskRole: iam.Role;
  readonly rule: events.Rule;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: GarbageCollectorProps) {
    super(scope, id);
    this.taskRole = props.taskRole;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', {
      networkMode: ecs.NetworkMode.AWS_VPC,
      taskRole: this.taskRole,
    });
    this.taskDefinition.addContainer('gc', {
      image: props.image,
      // The image's entry point starts the service; the job runs the collector's bundle instead.
      entryPoint: [IMAGE_LAYOUT.node],
      command: [COLLECTOR_BUNDLE, '--json'],
      cpu: 256,
      // A rewrite holds one pack being built and the live blocks of the pack being read.
      memoryReservationMiB: 256,
      memoryLimitMiB: 1024,
      environment: { ...props.environment },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'gc' }),
      readonlyRootFilesystem: true,
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: 'filesync garbage collector task: outbound only',
      allowAllOutbound: true,
    });
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'filesync storage garbage collection',
      schedule: events.Schedule.expression(GARBAGE_COLLECTION.schedule),
    });
    this.rule.addTarget(
      new targets.EcsTask({
        cluster: props.cluster,
        taskDefinition: this.taskDefinition,
        taskCount: 1,
        subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [this.securityGroup],
        launchType: ecs.LaunchType.EC2,
      }),
    );
    // RunTask of a task definition with a task role needs iam:PassRole for it whatever the launch
    // type; the target adds it on its own only for Fargate-compatible definitions.
    const eventsRole = this.taskDefinition.node.findChild('EventsRole') as iam.Role;
    eventsRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [this.taskRole.roleArn] }),
    );
  }
}

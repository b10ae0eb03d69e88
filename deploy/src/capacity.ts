import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface ComputeCapacityProps {
  readonly vpc: ec2.IVpc;
  readonly instanceType: string;
  readonly minInstances: number;
  readonly maxInstances: number;
}

/** Private DNS names of the services inside the VPC: `<service>.filesync.internal`. */
export const INTERNAL_NAMESPACE = 'filesync.internal';

/**
 * The ECS cluster and its EC2 capacity: an Auto Scaling group of ECS-optimized Amazon Linux 2023
 * instances, sized by a capacity provider with managed scaling (ECS grows the group when tasks
 * cannot be placed and shrinks it when instances idle, draining them first).
 */
export class ComputeCapacity extends Construct {
  readonly cluster: ecs.Cluster;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly capacityProvider: ecs.AsgCapacityProvider;

  constructor(scope: Construct, id: string, props: ComputeCapacityProps) {
    super(scope, id);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      defaultCloudMapNamespace: { name: INTERNAL_NAMESPACE, vpc: props.vpc },
    });

    const instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: 'ECS container instances: no inbound, tasks have their own security groups',
      allowAllOutbound: true,
    });
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType: new ec2.InstanceType(props.instanceType),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
      userData: ec2.UserData.forLinux(),
      role: new iam.Role(this, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }),
      securityGroup: instanceSecurityGroup,
      requireImdsv2: true,
      // CloudWatch's one-minute instance metrics make the capacity provider react faster.
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
        },
      ],
    });
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Instances', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      minCapacity: props.minInstances,
      maxCapacity: props.maxInstances,
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
    });
    this.capacityProvider = new ecs.AsgCapacityProvider(this, 'CapacityProvider', {
      autoScalingGroup: this.autoScalingGroup,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
    });
    this.cluster.addAsgCapacityProvider(this.capacityProvider);
    // Tasks use awsvpc networking; with this the agent blocks them from the instance metadata
    // service, so a task only ever holds its own task role, never the instance role.
    this.autoScalingGroup.addUserData('echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config');
    this.cluster.addDefaultCapacityProviderStrategy([
      { capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 },
    ]);
  }
}

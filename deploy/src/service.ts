import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { SERVICE_PORTS, type ServiceName } from '@filesync/resources';

/**
 * Where the images put things (see services/<name>/Dockerfile and deploy/images/build.mjs).
 * The health probe asks grpc.health.v1 on the service's own port.
 */
export const IMAGE_LAYOUT = {
  node: '/nodejs/bin/node',
  healthProbe: '/app/health-probe.mjs',
} as const;

/**
 * NLB health checks cannot speak gRPC, so they ask the task's metrics HTTP server for /healthz,
 * which mirrors the grpc.health.v1 status: 503 while the service is NOT_SERVING (starting or
 * draining), so the NLB stops sending new connections to a task that is shutting down.
 */
export const TARGET_HEALTH_CHECK_PATH = '/healthz';

/** How long the NLB keeps a deregistered task's connections before ECS sends SIGTERM. */
export const DEREGISTRATION_DELAY = Duration.seconds(30);
/** In-flight calls may finish this long after SIGTERM; ECS kills the container after STOP_TIMEOUT. */
export const SHUTDOWN_GRACE = Duration.seconds(20);
export const STOP_TIMEOUT = Duration.seconds(30);

export const CPU_TARGET_PERCENT = 60;

export interface FilesyncServiceProps {
  readonly name: ServiceName;
  /** Created by the stack first: the storage role's trust policy and auth's environment need it. */
  readonly taskRole: iam.Role;
  readonly cluster: ecs.ICluster;
  readonly capacityProvider: ecs.AsgCapacityProvider;
  readonly image: ecs.ContainerImage;
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets?: Readonly<Record<string, ecs.Secret>>;
  readonly logRetention: logs.RetentionDays;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly loadBalancerSecurityGroup: ec2.ISecurityGroup;
  /** TLS listener when given, TCP otherwise. */
  readonly certificateArn: string | undefined;
}

/**
 * One gRPC service: task definition (awsvpc), ECS service on the EC2 capacity provider, an NLB
 * listener and target group, a private DNS name, and CPU target tracking.
 *
 * awsvpc rather than host or bridge networking: each task gets its own security group (only the
 * NLB and the services that call it may connect), and the ECS agent blocks awsvpc tasks from the
 * instance metadata service, so a task never sees the instance role. The price is one ENI per
 * task (a t3.small holds two tasks; enable ENI trunking on larger instance types for density).
 */
export class FilesyncService extends Construct {
  readonly name: ServiceName;
  readonly service: ecs.Ec2Service;
  readonly taskRole: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  readonly targetGroup: elbv2.NetworkTargetGroup;
  readonly listener: elbv2.NetworkListener;
  readonly scaling: ecs.ScalableTaskCount;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FilesyncServiceProps) {
    super(scope, id);
    this.name = props.name;
    const ports = SERVICE_PORTS[props.name];
    const vpc = props.cluster.vpc;

    this.taskRole = props.taskRole;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });

    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', {
      networkMode: ecs.NetworkMode.AWS_VPC,
      taskRole: this.taskRole,
    });
    taskDefinition.addContainer('app', {
      image: props.image,
      cpu: 256,
      memoryReservationMiB: 256,
      memoryLimitMiB: 512,
      environment: { ...props.environment },
      secrets: props.secrets ? { ...props.secrets } : undefined,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: props.name }),
      portMappings: [
        { containerPort: ports.grpc, name: 'grpc' },
        { containerPort: ports.metrics, name: 'metrics' },
      ],
      healthCheck: {
        command: ['CMD', IMAGE_LAYOUT.node, IMAGE_LAYOUT.healthProbe],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(20),
      },
      readonlyRootFilesystem: true,
      stopTimeout: STOP_TIMEOUT,
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `filesync ${props.name} tasks`,
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(
      props.loadBalancerSecurityGroup,
      ec2.Port.tcp(ports.grpc),
      'gRPC from the load balancer',
    );
    this.securityGroup.addIngressRule(
      props.loadBalancerSecurityGroup,
      ec2.Port.tcp(ports.metrics),
      'health checks from the load balancer',
    );

    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: props.cluster,
      taskDefinition,
      desiredCount: props.minTasks,
      capacityProviderStrategies: [
        { capacityProvider: props.capacityProvider.capacityProviderName, weight: 1 },
      ],
      securityGroups: [this.securityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      placementStrategies: [ecs.PlacementStrategy.spreadAcross(ecs.BuiltInAttributes.AVAILABILITY_ZONE)],
      cloudMapOptions: {
        name: props.name,
        dnsRecordType: servicediscovery.DnsRecordType.A,
        dnsTtl: Duration.seconds(10),
      },
      healthCheckGracePeriod: Duration.seconds(60),
    });

    this.targetGroup = new elbv2.NetworkTargetGroup(this, 'Targets', {
      vpc,
      port: ports.grpc,
      protocol: elbv2.Protocol.TCP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: DEREGISTRATION_DELAY,
      // Long-lived change streams are closed when the delay ends, so clients reconnect elsewhere.
      connectionTermination: true,
      healthCheck: {
        protocol: elbv2.Protocol.HTTP,
        port: String(ports.metrics),
        path: TARGET_HEALTH_CHECK_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
    this.targetGroup.addTarget(
      this.service.loadBalancerTarget({ containerName: 'app', containerPort: ports.grpc }),
    );
    this.listener = props.loadBalancer.addListener(`${id}Listener`, {
      port: ports.grpc,
      ...(props.certificateArn
        ? {
            protocol: elbv2.Protocol.TLS,
            certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn)],
            sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
            // gRPC needs HTTP/2 negotiated by ALPN at the TLS terminator.
            alpnPolicy: elbv2.AlpnPolicy.HTTP2_ONLY,
          }
        : { protocol: elbv2.Protocol.TCP }),
      defaultTargetGroups: [this.targetGroup],
    });

    this.scaling = this.service.autoScaleTaskCount({
      minCapacity: props.minTasks,
      maxCapacity: props.maxTasks,
    });
    this.scaling.scaleOnCpuUtilization('CpuScaling', {
      targetUtilizationPercent: CPU_TARGET_PERCENT,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(180),
    });
  }

  /** Lets another service's tasks call this one's gRPC port directly (private DNS name). */
  allowGrpcFrom(other: FilesyncService): void {
    this.securityGroup.addIngressRule(
      other.securityGroup,
      ec2.Port.tcp(SERVICE_PORTS[this.name].grpc),
      `gRPC from ${other.name}`,
    );
  }
}

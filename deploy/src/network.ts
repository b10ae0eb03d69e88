import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  /** Two zone names, or empty for the region's first two (resolved by CloudFormation, no lookup). */
  readonly availabilityZones: readonly string[];
  readonly natGateways: number;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A VPC over two availability zones: the NLB in public subnets, instances and tasks in private
 * ones. S3 and DynamoDB are reached through (free) gateway endpoints, so block transfers of the
 * metadata service and table traffic never pay NAT data charges.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ...(props.availabilityZones.length > 0
        ? { availabilityZones: [...props.availabilityZones] }
        : { maxAzs: 2 }),
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: {
        // Rejected traffic is what a security review needs; accepted traffic would mostly log block
        // transfers and cost more than the rest of the idle stack.
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
  }
}

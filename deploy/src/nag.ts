import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { NAMESPACE_ADVANCED_TOPIC, SERVICE_NAMES } from '@filesync/resources';
import type { FilesyncStack } from './filesync-stack';
import type { PrerequisitesStack } from './prerequisites-stack';

/**
 * cdk-nag (AwsSolutions) findings we accept, each on the one construct it concerns and with the
 * reason next to it. Everything else fails `cdk synth` and the unit tests.
 */
export function acknowledgeNagFindings(prerequisites: PrerequisitesStack, main: FilesyncStack): void {
  acknowledge(
    prerequisites.signingKey,
    'AwsSolutions-SMG4',
    // Rotating means rolling the auth tasks onto a new Ed25519 key while the other services refetch
    // its public key (README "Rotate the signing key"); a generic Secrets Manager rotation function
    // can neither generate such a key nor restart auth.
    'Ed25519 signing key: rotated by the documented put-value and auth redeployment procedure',
  );

  const instanceRolePolicy = main.node.findChild('Capacity').node.findChild('InstanceRole');
  // CDK's standard ECS agent policy: ecs:Submit* is scoped to the cluster ARN, ecs:Poll is
  // conditioned on the cluster, and ecs:DiscoverPollEndpoint / ecr:GetAuthorizationToken support
  // no resource-level permissions at all.
  acknowledge(
    instanceRolePolicy,
    'AwsSolutions-IAM5[Action::ecs:Submit*]',
    'ECS agent actions, cluster-scoped',
  );
  acknowledge(
    instanceRolePolicy,
    'AwsSolutions-IAM5[Resource::*]',
    'ECS agent actions without resource-level permissions',
  );
  acknowledge(
    main.node.findChild('Capacity').node.findChild('Instances'),
    'AwsSolutions-AS3',
    // The capacity provider owns this group's size; its scaling activity is visible in ECS service
    // events and CloudWatch, and the unhealthy-target alarms cover what operators act on.
    'Group managed by the ECS capacity provider; alarms cover task health',
  );

  for (const name of SERVICE_NAMES) {
    const service = main.services[name];
    const executionRole = service.service.taskDefinition.executionRole;
    if (executionRole) {
      // ecr:GetAuthorizationToken has no resource-level permissions; image pulls, log writes and
      // the signing-key read are scoped to their repository, log group and secret.
      acknowledge(executionRole, 'AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken requires "*"');
    }
    acknowledge(
      service.service.taskDefinition,
      'AwsSolutions-ECS2',
      // The plain variables are resource names, ports and addresses, not secrets; the signing key
      // is injected from Secrets Manager.
      'Only non-secret configuration is passed as environment variables',
    );
  }

  // Object keys below ns/ are created at run time per namespace: the wildcard is the namespace
  // prefix itself (auth narrows each client session to `ns/<id>/*` of the caller's namespaces).
  const namespaceObjects = `AwsSolutions-IAM5[Resource::<${logicalId(main.data.blocksBucket.node.defaultChild)}.Arn>/ns/*]`;
  acknowledge(
    main.storageRole,
    namespaceObjects,
    'Block objects of all namespaces, narrowed per session by auth',
  );
  acknowledge(main.services.metadata.taskRole, namespaceObjects, 'HeadObject on any block of any namespace');
  // Push between tasks: each metadata task creates, reads and deletes a queue of its own, named
  // at start with a random task id, so the grant is the name prefix (NAMESPACE_ADVANCED_TOPIC).
  acknowledge(
    main.services.metadata.taskRole,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sqs:<AWS::Region>:<AWS::AccountId>:${NAMESPACE_ADVANCED_TOPIC.taskQueuePrefix}*]`,
    'Per-task wake-up queues, created at task start with a random id under a fixed name prefix',
  );
  const collector = main.garbageCollector;
  acknowledge(
    collector.taskRole,
    namespaceObjects,
    'The collector reads, rewrites and deletes packs and blocks of every namespace',
  );
  acknowledge(
    collector.taskDefinition,
    'AwsSolutions-ECS2',
    'Only non-secret configuration (table and bucket names, region) is passed as environment variables',
  );
  // The rule's role may tag the tasks it starts (ecs:TagResource); task ARNs exist only once a
  // task starts, so the resource is every task of this one cluster.
  const cluster = main.node.findChild('Capacity').node.findChild('Cluster');
  acknowledge(
    collector.taskDefinition.node.findChild('EventsRole'),
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:*:task/<${logicalId(cluster.node.defaultChild)}>/*]`,
    'Tagging the collector tasks it starts, limited to the cluster',
  );
  if (collector.taskDefinition.executionRole) {
    acknowledge(
      collector.taskDefinition.executionRole,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken requires "*"',
    );
  }

  acknowledge(
    main.node.findChild('LoadBalancerSecurityGroup'),
    'AwsSolutions-EC23',
    // Native clients connect from anywhere; only the four gRPC listener ports are open.
    'Public gRPC endpoint: inbound only on the service listener ports',
  );
  acknowledge(
    main.loadBalancer,
    'AwsSolutions-ELB2',
    // NLB access logs record TLS listeners only and need a region-pinned stack; every RPC is logged
    // by the services themselves (structured logs in CloudWatch).
    'Per-call logs come from the services; NLB logs would cover TLS handshakes only',
  );
}

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

function logicalId(resource: IConstruct | undefined): string {
  if (!resource) throw new Error('construct has no CloudFormation resource');
  return Stack.of(resource).getLogicalId(resource as CfnResource);
}

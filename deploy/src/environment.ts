import {
  BLOCKS_BUCKET,
  CHANGE_EVENTS_QUEUE,
  MAIL_SENDER,
  NAMESPACE_ADVANCED_TOPIC,
  RETENTION,
  SERVICE_PORTS,
  STORAGE_ROLE,
  TABLES,
  type ServiceName,
  type TableKey,
} from '@filesync/resources';

/** Names and addresses of deployed resources (CDK tokens in the stack). */
export interface DeployedResources {
  readonly region: string;
  readonly tableNames: Readonly<Record<TableKey, string>>;
  readonly bucketName: string;
  readonly queueUrl: string;
  /** The SNS topic metadata tasks tell each other of commits through (push). */
  readonly advanceTopicArn: string;
  readonly storageRoleArn: string;
  readonly mailFrom: string;
  /** `host:port` of auth and metadata inside the VPC. */
  readonly authAddress: string;
  readonly metadataAddress: string;
  readonly shutdownGraceMs: number;
  /** Days superseded versions are kept (DeployConfig.retentionDays). */
  readonly retentionDays: number;
}

/**
 * Exactly the variables each service reads (see the brief's "Common environment"); values that
 * equal the service's default (token TTLs, path-style S3, public S3 endpoint) are left out.
 * Secrets (auth's signing key) are not here: ECS injects them from Secrets Manager.
 */
export function serviceEnvironment(name: ServiceName, resources: DeployedResources): Record<string, string> {
  const common = {
    FILESYNC_BIND_HOST: '0.0.0.0',
    FILESYNC_GRPC_PORT: String(SERVICE_PORTS[name].grpc),
    FILESYNC_METRICS_PORT: String(SERVICE_PORTS[name].metrics),
    FILESYNC_LOG_LEVEL: 'info',
    FILESYNC_SHUTDOWN_GRACE_MS: String(resources.shutdownGraceMs),
    AWS_REGION: resources.region,
  };
  switch (name) {
    case 'auth':
      return {
        ...common,
        [TABLES.auth.envVar]: resources.tableNames.auth,
        [STORAGE_ROLE.envVar]: resources.storageRoleArn,
        [BLOCKS_BUCKET.envVar]: resources.bucketName,
        [MAIL_SENDER.envVar]: resources.mailFrom,
      };
    case 'metadata':
      return {
        ...common,
        [TABLES.metadata.envVar]: resources.tableNames.metadata,
        [TABLES.outbox.envVar]: resources.tableNames.outbox,
        [BLOCKS_BUCKET.envVar]: resources.bucketName,
        [CHANGE_EVENTS_QUEUE.urlEnvVar]: resources.queueUrl,
        [NAMESPACE_ADVANCED_TOPIC.arnEnvVar]: resources.advanceTopicArn,
        FILESYNC_AUTH_ADDRESS: resources.authAddress,
        [RETENTION.envVar]: String(resources.retentionDays),
      };
    case 'sync-diff':
      return {
        ...common,
        FILESYNC_AUTH_ADDRESS: resources.authAddress,
        FILESYNC_METADATA_ADDRESS: resources.metadataAddress,
      };
    case 'notifier':
      return {
        ...common,
        [TABLES.notifier.envVar]: resources.tableNames.notifier,
        [CHANGE_EVENTS_QUEUE.urlEnvVar]: resources.queueUrl,
        [MAIL_SENDER.envVar]: resources.mailFrom,
        FILESYNC_AUTH_ADDRESS: resources.authAddress,
      };
  }
}

/**
 * The garbage collector job's variables: the metadata service's table, bucket and region (its
 * config reads the same names) and its log level. Its grace period and the retention period keep
 * their defaults (libs/resources GARBAGE_COLLECTION, RETENTION).
 */
export function collectorEnvironment(resources: DeployedResources): Record<string, string> {
  return {
    AWS_REGION: resources.region,
    FILESYNC_LOG_LEVEL: 'info',
    [TABLES.metadata.envVar]: resources.tableNames.metadata,
    [BLOCKS_BUCKET.envVar]: resources.bucketName,
  };
}

/** The secret auth's signing key is injected from. */
export const SIGNING_KEY_ENV = 'FILESYNC_SIGNING_KEY';

import { TABLES } from '@filesync/resources';
import type { BootstrappedResources } from './bootstrap';
import { serviceEnvironment, servicePorts } from './services';

const resources: BootstrappedResources = {
  region: 'us-east-1',
  bucket: 'filesync-blocks',
  tables: {
    auth: 'filesync-auth',
    metadata: 'filesync-metadata',
    outbox: 'filesync-outbox',
    notifier: 'filesync-notifier',
  },
  queueUrl: 'http://127.0.0.1:4566/123456789012/filesync-change-events',
  deadLetterQueueUrl: 'http://127.0.0.1:4566/123456789012/filesync-change-events-dlq',
  advanceTopicArn: 'arn:aws:sns:us-east-1:123456789012:filesync-namespace-advanced',
  storageRoleArn: 'arn:aws:iam::123456789012:role/filesync-storage-access',
};
const emulators = {
  moto: 'http://127.0.0.1:4566',
  dynamodb: 'http://127.0.0.1:8000',
  ses: 'http://127.0.0.1:8005',
};

describe('servicePorts', () => {
  test('puts the services on consecutive ports from the base, auth first', () => {
    const ports = servicePorts(51051);
    expect([ports.auth.grpc, ports.metadata.grpc, ports['sync-diff'].grpc, ports.notifier.grpc]).toEqual([
      51051, 51052, 51053, 51054,
    ]);
    expect(ports.auth.metrics).toBe(0);
    expect(servicePorts(50051, 9461).notifier.metrics).toBe(9464);
  });
});

describe('serviceEnvironment', () => {
  const options = { ports: servicePorts(51051), emulators, resources, signingKey: 'PEM' };

  test('points every service at the emulators, tables and queue', () => {
    const env = serviceEnvironment('metadata', options);
    expect(env).toMatchObject({
      FILESYNC_GRPC_PORT: '51052',
      AWS_ENDPOINT_URL: emulators.moto,
      AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb,
      FILESYNC_AUTH_ADDRESS: '127.0.0.1:51051',
      FILESYNC_METADATA_ADDRESS: '127.0.0.1:51052',
      FILESYNC_CHANGE_EVENTS_QUEUE_URL: resources.queueUrl,
      FILESYNC_NAMESPACE_ADVANCED_TOPIC_ARN: resources.advanceTopicArn,
      FILESYNC_S3_FORCE_PATH_STYLE: 'true',
    });
    for (const table of Object.values(TABLES)) expect(env[table.envVar]).toBeDefined();
  });

  test('passes FILESYNC_RETENTION_DAYS to metadata only, when set', () => {
    expect(serviceEnvironment('metadata', { ...options, retentionDays: '0' }).FILESYNC_RETENTION_DAYS).toBe(
      '0',
    );
    expect(serviceEnvironment('metadata', options).FILESYNC_RETENTION_DAYS).toBeUndefined();
    for (const name of ['auth', 'sync-diff', 'notifier'] as const) {
      expect(
        serviceEnvironment(name, { ...options, retentionDays: '0' }).FILESYNC_RETENTION_DAYS,
      ).toBeUndefined();
    }
  });

  test('gives the signing key and the storage role to auth only', () => {
    expect(serviceEnvironment('auth', options)).toMatchObject({
      FILESYNC_SIGNING_KEY: 'PEM',
      FILESYNC_STORAGE_ROLE_ARN: resources.storageRoleArn,
      FILESYNC_S3_PUBLIC_ENDPOINT: emulators.moto,
    });
    for (const name of ['metadata', 'sync-diff', 'notifier'] as const) {
      expect(serviceEnvironment(name, options).FILESYNC_SIGNING_KEY).toBeUndefined();
    }
  });
});

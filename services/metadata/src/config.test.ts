// Unit tests: configuration parsing is pure.
import { ConfigError } from '@filesync/server-kit';
import { loadMetadataConfig } from './config';

const base = {
  AWS_REGION: 'us-east-1',
  FILESYNC_CHANGE_EVENTS_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/filesync-change-events/',
  FILESYNC_NAMESPACE_ADVANCED_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:filesync-namespace-advanced',
};

describe('loadMetadataConfig', () => {
  it('applies the local defaults', () => {
    expect(loadMetadataConfig(base)).toMatchObject({
      host: '127.0.0.1',
      port: 50052,
      metricsPort: 9462,
      metadataTable: 'filesync-metadata',
      outboxTable: 'filesync-outbox',
      blocksBucket: 'filesync-blocks',
      s3ForcePathStyle: false,
      changeEventsQueueUrl: 'http://127.0.0.1:4566/000000000000/filesync-change-events',
      authAddress: '127.0.0.1:50051',
      retentionDays: 30,
      advanceTopicArn: 'arn:aws:sns:us-east-1:123456789012:filesync-namespace-advanced',
    });
  });

  it('refuses a push topic that is not an SNS topic ARN, and names it when missing', () => {
    const run = (value?: string) => () =>
      loadMetadataConfig({ ...base, FILESYNC_NAMESPACE_ADVANCED_TOPIC_ARN: value });
    expect(run('filesync-namespace-advanced')).toThrow(
      /FILESYNC_NAMESPACE_ADVANCED_TOPIC_ARN is invalid: expected an SNS topic ARN/,
    );
    expect(run(undefined)).toThrow(/FILESYNC_NAMESPACE_ADVANCED_TOPIC_ARN is required/);
  });

  it('takes a retention of whole days, 0 included', () => {
    expect(loadMetadataConfig({ ...base, FILESYNC_RETENTION_DAYS: '0' }).retentionDays).toBe(0);
    expect(loadMetadataConfig({ ...base, FILESYNC_RETENTION_DAYS: '365' }).retentionDays).toBe(365);
  });

  it.each(['-1', '1.5', '30d', ' ', '100000'])('refuses FILESYNC_RETENTION_DAYS=%j in one line', (value) => {
    const run = () => loadMetadataConfig({ ...base, FILESYNC_RETENTION_DAYS: value });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(
      /^Invalid configuration: FILESYNC_RETENTION_DAYS is invalid: expected whole days[^\n]*$/,
    );
  });

  it('names a missing queue URL and a malformed auth address in one message', () => {
    const run = () => loadMetadataConfig({ AWS_REGION: 'us-east-1', FILESYNC_AUTH_ADDRESS: 'http://auth' });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/FILESYNC_CHANGE_EVENTS_QUEUE_URL is required.*FILESYNC_AUTH_ADDRESS is invalid/);
  });
});

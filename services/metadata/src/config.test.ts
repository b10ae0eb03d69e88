// Unit tests: configuration parsing is pure.
import { ConfigError } from '@filesync/server-kit';
import { loadMetadataConfig } from './config';

const base = {
  AWS_REGION: 'us-east-1',
  FILESYNC_CHANGE_EVENTS_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/filesync-change-events/',
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
    });
  });

  it('names a missing queue URL and a malformed auth address in one message', () => {
    const run = () => loadMetadataConfig({ AWS_REGION: 'us-east-1', FILESYNC_AUTH_ADDRESS: 'http://auth' });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/FILESYNC_CHANGE_EVENTS_QUEUE_URL is required.*FILESYNC_AUTH_ADDRESS is invalid/);
  });
});

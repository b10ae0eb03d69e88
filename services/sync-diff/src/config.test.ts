import { ConfigError } from '@filesync/server-kit';
import { loadSyncDiffConfig } from './config';

describe('loadSyncDiffConfig', () => {
  it('reads the addresses and applies the port defaults', () => {
    expect(
      loadSyncDiffConfig({
        AWS_REGION: 'us-east-1',
        FILESYNC_METADATA_ADDRESS: '127.0.0.1:50052',
        FILESYNC_AUTH_ADDRESS: '127.0.0.1:50051',
      }),
    ).toMatchObject({
      port: 50053,
      metricsPort: 9463,
      metadataAddress: '127.0.0.1:50052',
      authAddress: '127.0.0.1:50051',
    });
  });

  it('rejects a missing or malformed address with the variable name', () => {
    expect(() => loadSyncDiffConfig({ AWS_REGION: 'us-east-1', FILESYNC_AUTH_ADDRESS: 'http://x' })).toThrow(
      /FILESYNC_METADATA_ADDRESS is required.*FILESYNC_AUTH_ADDRESS is invalid/,
    );
    expect(() => loadSyncDiffConfig({})).toThrow(ConfigError);
  });
});

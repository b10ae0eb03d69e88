import { auth, metadata, syncdiff } from './index';
import { channelOptions, retryableMethods } from './client';

describe('retryableMethods', () => {
  it('lists exactly the methods the proto marks idempotent or free of side effects', () => {
    expect(retryableMethods(auth.AuthServiceClient.serviceName).sort()).toEqual(
      ['GetPublicKeys', 'GetStorageCredentials', 'ListDevices', 'ListRevokedDevices', 'Logout'].sort(),
    );
    expect(retryableMethods(metadata.MetadataServiceClient.serviceName)).not.toContain('CommitFiles');
    expect(retryableMethods(syncdiff.SyncDiffServiceClient.serviceName)).toEqual([
      'Diff',
      'FindMissingBlocks',
    ]);
  });

  it('refuses a service the protos do not define', () => {
    expect(() => retryableMethods('filesync.nope.v1.Nope')).toThrow('no service filesync.nope.v1.Nope');
  });

  it('puts the retry policy for those methods into the channel service config', () => {
    const config = JSON.parse(
      channelOptions(auth.AuthServiceClient.serviceName)['grpc.service_config'] as string,
    );
    expect(config.methodConfig[0].name).toContainEqual({
      service: 'filesync.auth.v1.AuthService',
      method: 'GetPublicKeys',
    });
    expect(config.methodConfig[0].name).not.toContainEqual({
      service: 'filesync.auth.v1.AuthService',
      method: 'Login',
    });
  });
});

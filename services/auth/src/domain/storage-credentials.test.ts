// Uses a recording fake CredentialIssuer instead of STS.
import { STORAGE_ROLE } from '@filesync/resources';
import type { CredentialIssuer } from './ports';
import { StorageCredentials } from './storage-credentials';
import { storageSessionPolicy } from './storage-policy';

const principal = { userId: 'user-1', deviceId: 'dev-1', email: 'a@example.com', namespaceIds: ['ns-1'] };
const location = {
  bucket: 'blocks',
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:4566',
  forcePathStyle: true,
};

describe('StorageCredentials', () => {
  it('assumes the role with the namespace policy and returns where to write', async () => {
    const requests: Parameters<CredentialIssuer['issue']>[0][] = [];
    const issuer: CredentialIssuer = {
      async issue(request) {
        requests.push(request);
        return { accessKeyId: 'AKIA', secretAccessKey: 'secret', sessionToken: 'token', expiresAtMs: 42 };
      },
    };
    const grant = await new StorageCredentials(issuer, location).grant(principal);
    expect(requests).toEqual([
      {
        sessionName: 'filesync-user-1',
        sessionPolicy: storageSessionPolicy('blocks', ['ns-1']),
        durationSeconds: STORAGE_ROLE.credentialSeconds,
      },
    ]);
    expect(grant).toEqual({
      accessKeyId: 'AKIA',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiresAtMs: 42,
      ...location,
      prefixes: [{ namespaceId: 'ns-1', keyPrefix: 'ns/ns-1/' }],
    });
  });

  it('refuses a caller without namespaces', async () => {
    const issuer: CredentialIssuer = { issue: jest.fn() };
    await expect(
      new StorageCredentials(issuer, location).grant({ ...principal, namespaceIds: [] }),
    ).rejects.toMatchObject({ kind: 'permission-denied' });
    expect(issuer.issue).not.toHaveBeenCalled();
  });
});

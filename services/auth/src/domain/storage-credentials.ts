import { namespaceKeyPrefix, STORAGE_ROLE } from '@filesync/resources';
import { permissionDenied, type Principal } from '@filesync/server-kit';
import type { CredentialIssuer, TemporaryCredentials } from './ports';
import { storageSessionName, storageSessionPolicy } from './storage-policy';

export interface StorageLocation {
  readonly bucket: string;
  readonly region: string;
  /** Endpoint clients use; empty means the AWS default for the region. */
  readonly endpoint: string;
  readonly forcePathStyle: boolean;
}

export interface StorageGrant extends TemporaryCredentials, StorageLocation {
  readonly prefixes: readonly { namespaceId: string; keyPrefix: string }[];
}

/** Short-lived S3 credentials for the caller's namespaces only. */
export class StorageCredentials {
  constructor(
    private readonly issuer: CredentialIssuer,
    private readonly location: StorageLocation,
  ) {}

  async grant(caller: Principal): Promise<StorageGrant> {
    if (caller.namespaceIds.length === 0) throw permissionDenied('the access token grants no namespace');
    const credentials = await this.issuer.issue({
      sessionName: storageSessionName(caller.userId),
      sessionPolicy: storageSessionPolicy(this.location.bucket, caller.namespaceIds),
      durationSeconds: STORAGE_ROLE.credentialSeconds,
    });
    return {
      ...credentials,
      ...this.location,
      prefixes: caller.namespaceIds.map((namespaceId) => ({
        namespaceId,
        keyPrefix: namespaceKeyPrefix(namespaceId),
      })),
    };
  }
}

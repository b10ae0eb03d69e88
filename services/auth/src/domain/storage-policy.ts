import { namespaceKeyPrefix } from '@filesync/resources';

/** STS rejects a plain-text session policy longer than this. */
export const MAX_SESSION_POLICY_CHARS = 2048;

/**
 * The session policy that narrows the storage role to the caller's namespaces: object reads and
 * writes below each namespace's key prefix, nothing else (no listing, no deletes). The effective
 * permission is the intersection with the role's own policy.
 *
 * Local emulators (moto) ignore session policies, so this document is what the unit tests pin.
 */
export function storageSessionPolicy(bucket: string, namespaceIds: readonly string[]): string {
  if (namespaceIds.length === 0) throw new Error('a storage session policy needs at least one namespace');
  const resources = [...new Set(namespaceIds)]
    .sort()
    .map((namespaceId) => `arn:aws:s3:::${bucket}/${namespaceKeyPrefix(namespaceId)}*`);
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'NamespaceObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: resources,
      },
    ],
  });
  if (policy.length > MAX_SESSION_POLICY_CHARS) {
    throw new Error(
      `storage session policy for ${namespaceIds.length} namespaces exceeds ${MAX_SESSION_POLICY_CHARS} characters`,
    );
  }
  return policy;
}

/**
 * RoleSessionName shows up in CloudTrail, so it names the user; STS allows 2-64 characters of
 * [A-Za-z0-9+=,.@_-].
 */
export function storageSessionName(userId: string): string {
  const safe = userId.replace(/[^A-Za-z0-9+=,.@_-]/g, '-');
  return `filesync-${safe}`.slice(0, 64);
}

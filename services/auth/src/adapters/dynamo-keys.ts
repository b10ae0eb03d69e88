import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/**
 * Item keys of the auth table (pk/sk). One place, so the layout can be read at a glance:
 *   EMAIL#<email>        / ACCOUNT           {userId, passwordHash, rootNamespaceId, createdAtMs}
 *   USER#<userId>        / PROFILE           {email, rootNamespaceId, createdAtMs, emailVerified?,
 *                                            verifyCodeHash?, verifyExpiresAtMs?, verifySentAtMs?, verifyAttempts?}
 *   USER#<userId>        / DEVICE#<deviceId> {name, createdAtMs, lastSeenAtMs}
 *   REFRESH#<sha256>     / TOKEN             {userId, deviceId, familyId, usedAtMs?, expiresAt}
 *   FAMILY#<familyId>    / STATE             {revoked, userId, expiresAt}
 *   LOGINFAIL#<email>    / STATE             {count, firstAtMs, lastAtMs, expiresAt}
 *   REVOKED              / DEVICE#<deviceId> {untilMs, expiresAt}
 * `expiresAt` is Unix seconds, the table's TTL attribute.
 */
export const keys = {
  account: (email: string) => ({ pk: `EMAIL#${email}`, sk: 'ACCOUNT' }),
  profile: (userId: string) => ({ pk: `USER#${userId}`, sk: 'PROFILE' }),
  device: (userId: string, deviceId: string) => ({ pk: `USER#${userId}`, sk: `DEVICE#${deviceId}` }),
  devicePrefix: 'DEVICE#',
  refreshToken: (tokenHash: string) => ({ pk: `REFRESH#${tokenHash}`, sk: 'TOKEN' }),
  family: (familyId: string) => ({ pk: `FAMILY#${familyId}`, sk: 'STATE' }),
  loginFailures: (email: string) => ({ pk: `LOGINFAIL#${email}`, sk: 'STATE' }),
  /** One partition, read whole: it holds only the logouts of one access-token lifetime. */
  revokedDevices: 'REVOKED',
  revokedDevice: (deviceId: string) => ({ pk: 'REVOKED', sk: `DEVICE#${deviceId}` }),
};

export const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

/** Indexes (in request order) of the transaction items whose condition failed. */
export function failedConditions(error: unknown): number[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).flatMap((reason, index) =>
    reason.Code === 'ConditionalCheckFailed' ? [index] : [],
  );
}

/** The S3 bucket holding content blocks, and where each namespace's blocks live in it. */
export const BLOCKS_BUCKET = {
  id: 'BlocksBucket',
  defaultName: 'filesync-blocks',
  envVar: 'FILESYNC_BLOCKS_BUCKET',
  /** Incomplete multipart uploads are removed after this many days. */
  abortIncompleteUploadsAfterDays: 2,
} as const;

/** Key prefix of a namespace; STS session policies grant exactly this prefix. */
export function namespaceKeyPrefix(namespaceId: string): string {
  return `ns/${namespaceId}/`;
}

/** Object key of one block of a namespace. */
export function blockKey(namespaceId: string, blockHash: string): string {
  return `${namespaceKeyPrefix(namespaceId)}blocks/${blockHash}`;
}

/** The role the auth service assumes to mint per-user storage credentials. */
export const STORAGE_ROLE = {
  id: 'StorageAccessRole',
  defaultName: 'filesync-storage-access',
  envVar: 'FILESYNC_STORAGE_ROLE_ARN',
  /** Credentials last this long; clients renew them before expiry. */
  credentialSeconds: 900,
} as const;

/** SES identity notification mail is sent from. */
export const MAIL_SENDER = {
  id: 'MailSenderIdentity',
  envVar: 'FILESYNC_MAIL_FROM',
  defaultAddress: 'notifications@filesync.local',
} as const;

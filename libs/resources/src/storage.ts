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

/**
 * Object key of one block of a namespace stored as an object of its own: how blocks were stored
 * before packs. Still readable (LocateBlocks answers an empty pack id for them); nothing new is
 * written there.
 */
export function blockKey(namespaceId: string, blockHash: string): string {
  return `${namespaceKeyPrefix(namespaceId)}blocks/${blockHash}`;
}

/** Key prefix of a namespace's packs: the collector lists it to find packs nobody registered. */
export function packsPrefix(namespaceId: string): string {
  return `${namespaceKeyPrefix(namespaceId)}packs/`;
}

/** Object key of one pack (format: libs/sync-core pack.ts); the id is the SHA-256 of its bytes. */
export function packKey(namespaceId: string, packId: string): string {
  return `${packsPrefix(namespaceId)}${packId}`;
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

/**
 * How long old versions and deleted files stay restorable, and when the garbage collector may
 * delete what nothing references any more. Read by the metadata service (TTL of superseded
 * versions), its collector job and the CDK stack.
 */
export const RETENTION = {
  /** Days an old version or a deleted file's last content is kept; 0 expires them at once. */
  envVar: 'FILESYNC_RETENTION_DAYS',
  defaultDays: 30,
} as const;

export const GARBAGE_COLLECTION = {
  /**
   * Seconds an unreferenced block must stay unreferenced (and a new one unused) before the
   * collector deletes it. It protects uploads in flight (registered, not yet committed) and
   * commits that verified a block just before the collector condemned it, so it must exceed the
   * longest commit (its RPC deadline) by far; tests may set it to 0.
   */
  graceEnvVar: 'FILESYNC_GC_GRACE_SECONDS',
  defaultGraceSeconds: 24 * 60 * 60,
  /** A pack whose live bytes are below this fraction of its data is rewritten. */
  rewriteBelowLiveFraction: 0.5,
  /** How often the scheduled collector runs on AWS (an EventBridge schedule expression). */
  schedule: 'rate(6 hours)',
} as const;

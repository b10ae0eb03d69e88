/** Limits shared by clients and services. */
export const LIMITS = {
  maxPathBytes: 4096,
  /** Longest file or folder name the file systems we run on accept (NAME_MAX: ext4, APFS), UTF-8 bytes. */
  maxNameBytes: 255,
  maxChangesPerCommit: 500,
  maxBlockHashesPerQuery: 10_000,
  /**
   * DynamoDB allows 100 items per transaction: each file writes its entry and a version item, and
   * every transaction also writes the namespace head, a journal entry and an outbox item.
   */
  maxFilesPerTransaction: 48,
  listFilesPageSize: 500,
  /** Content-defined chunking: bytes. */
  chunkMinBytes: 256 * 1024,
  chunkAvgBytes: 1024 * 1024,
  chunkMaxBytes: 4 * 1024 * 1024,
} as const;

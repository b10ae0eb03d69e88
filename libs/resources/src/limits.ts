/** Limits shared by clients and services. */
export const LIMITS = {
  maxPathBytes: 4096,
  maxChangesPerCommit: 500,
  maxBlockHashesPerQuery: 10_000,
  /** DynamoDB allows 100 items per transaction; a commit chunk spends 3 on head, journal and outbox. */
  maxFilesPerTransaction: 32,
  listFilesPageSize: 500,
  /** Content-defined chunking: bytes. */
  chunkMinBytes: 256 * 1024,
  chunkAvgBytes: 1024 * 1024,
  chunkMaxBytes: 4 * 1024 * 1024,
} as const;

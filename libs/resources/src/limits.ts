const MAX_ITEMS_PER_TRANSACTION = 100;
const TRANSACTION_OVERHEAD_ITEMS = 3;

/** Limits shared by clients and services. */
export const LIMITS = {
  maxPathBytes: 4096,
  /** Longest file or folder name the file systems we run on accept (NAME_MAX: ext4, APFS), UTF-8 bytes. */
  maxNameBytes: 255,
  maxChangesPerCommit: 500,
  maxBlockHashesPerQuery: 10_000,
  /**
   * DynamoDB's most items in one TransactWriteItems. A commit transaction spends
   * transactionOverheadItems of them on itself (the namespace head, one journal entry, one outbox
   * item: one of each per transaction keeps the cursor's meaning, one step per transaction) and
   * the rest on its files, 1 or 2 items each: the current entry, and the superseded version kept
   * for the retention period (an edit or a deletion). So 97 new files, or 48 edits or deletions,
   * fill one. The committer fills each transaction by this count, not by a number of files.
   */
  maxItemsPerTransaction: MAX_ITEMS_PER_TRANSACTION,
  transactionOverheadItems: TRANSACTION_OVERHEAD_ITEMS,
  /**
   * Modification times are any whole milliseconds a JavaScript Date can hold (±8.64e15 ms, about
   * ±273,790 years around 1970): before 1970 (negative) and 0 included, and exact in a double.
   */
  maxAbsModifiedAtMs: 8.64e15,
  listFilesPageSize: 500,
  /**
   * Items one DynamoDB Query of a listing reads (its Limit). Without one a Query reads up to 1 MB
   * (about 2,900 file items); DynamoDB Local answered such pages in 5 to 21 s at load 6 to 8, the
   * later pages slower, past the SDK's 10 s request timeout. Pages of 500 took 0.1 to 0.3 s.
   */
  listFilesQueryItems: 500,
  /**
   * Push (metadata WatchChanges): a stream that has sent nothing for this long sends a heartbeat,
   * so a client that hears nothing for a few of these knows the stream is dead and reconnects.
   * Milliseconds; below the usual 60 s idle timeouts of load balancers and NATs.
   */
  watchHeartbeatMs: 15_000,
  /** Most paths in one GetFiles call. */
  maxPathsPerGetFiles: 1000,
  /** Most files or folders named in one RestoreFiles call. */
  maxPathsPerRestore: 100,
  /** Most files one RestoreFiles call restores (a commit of as many); next_page_token goes on. */
  maxRestoreFilesPerCall: 500,
  /** Entries of a ListTrash answer: the default and the most a caller may ask for. */
  trashPageSize: 100,
  maxTrashPageSize: 1000,
  /** Paths of a ListFollows answer: the default and the most a caller may ask for. */
  followsPageSize: 100,
  maxFollowsPageSize: 1000,
  /**
   * Most paths an incremental diff handles (the client's changed paths, and separately the paths
   * the journal changed after its cursor); beyond it a full diff costs about as much and holds
   * nothing per change in memory.
   */
  maxIncrementalPaths: 10_000,
  /**
   * Most manifest entries in one Diff message (DiffRequest.entries). One message per entry cost
   * the client about 12 KB of garbage each in grpc-js (100,000 entries: 1.2 GB allocated in under
   * 3 s, a heap that outran its collector); 500 of at most about 4.3 KB each (a 4 KiB path) stay
   * far below the 16 MiB message limit.
   */
  maxManifestEntriesPerMessage: 500,
  /**
   * Packs (libs/sync-core pack.ts): small blocks are bundled into objects of about this size, so
   * a folder of small files costs a few PUTs, not one per file. Bytes. 8 MiB: a client holds
   * up to six pack buffers during a pass, and at 16 MiB they were a third of its 300 MiB
   * budget; a PUT of 8 MiB still costs its request far less than its bytes.
   */
  packTargetBytes: 8 * 1024 * 1024,
  /** Largest pack object the server registers (target + one largest block + trailer, rounded up). */
  maxPackBytes: 32 * 1024 * 1024,
  /** Most blocks in one pack: bounds its trailer (36 bytes a block) and one index write. */
  maxBlocksPerPack: 4096,
  /** Most packs in one RegisterPacks call. */
  maxPacksPerRegister: 64,
  /** Content-defined chunking: bytes. */
  chunkMinBytes: 256 * 1024,
  chunkAvgBytes: 1024 * 1024,
  chunkMaxBytes: 4 * 1024 * 1024,
  /**
   * Most WatchChanges streams one metadata task holds open; one more is answered
   * RESOURCE_EXHAUSTED, so the client reconnects, through the load balancer, to another task.
   */
  maxWatchStreamsPerTask: 5_000,
  /** Journal entries per WatchChanges message while a stream catches up. */
  watchPageEntries: 100,
} as const;

/**
 * The metadata domain's own vocabulary. It mirrors the proto messages where they agree, but knows
 * nothing of gRPC or DynamoDB, so planning and event rules can be tested on plain values.
 */

export interface FileContent {
  readonly contentHash: string;
  readonly size: number;
  readonly blockHashes: readonly string[];
}

/** One version of a file; tombstones (deleted) carry no content. */
export interface FileEntry {
  readonly namespaceId: string;
  readonly path: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly content: FileContent | undefined;
  readonly modifiedAtMs: number;
  readonly committedAtMs: number;
  readonly deviceId: string;
  readonly journalSeq: number;
  /** A version made by a move: the path the file came from (whose tombstone has `movedTo`). */
  readonly movedFrom?: string;
  /** A tombstone written by a move: the path the file went to. */
  readonly movedTo?: string;
  /**
   * For a superseded version: when it stops being retained (Unix ms). Undefined for the current
   * entry, which never expires, and for versions kept without an expiry.
   */
  readonly expiresAtMs?: number;
}

/** A deleted file that can still be restored, as the trash index records it (issue 8). */
export interface TrashEntry {
  readonly path: string;
  /** The tombstone's version. */
  readonly version: number;
  readonly deletedAtMs: number;
  /** Device that deleted it. */
  readonly deviceId: string;
  /** When its last live version stops being retained (deletion time + retention), Unix ms. */
  readonly expiresAtMs: number;
  /** Bytes of that last live version. */
  readonly size: number;
}

/** Why one file was not restored (RestoreFiles). */
export type RestoreRefusalReason = 'not-in-trash' | 'live' | 'expired' | 'path-clash' | 'conflict';

/** The outcome of restoring one file. */
export type RestoreOutcome =
  | {
      readonly kind: 'restored';
      readonly path: string;
      readonly fromVersion: number;
      readonly entry: FileEntry;
    }
  | {
      readonly kind: 'refused';
      readonly path: string;
      /** The version that would have been brought back; 0 when none was found. */
      readonly fromVersion: number;
      readonly reason: RestoreRefusalReason;
      readonly message: string;
    };

/** A validated change request: canonical path, verified content hash. */
export interface FileChange {
  readonly path: string;
  readonly baseVersion: number;
  /** Undefined means: delete (commit a tombstone). */
  readonly content: FileContent | undefined;
  readonly modifiedAtMs: number;
  /**
   * A move: the live file at `moveFrom.path`, at version `moveFrom.baseVersion` and with this
   * change's content, leaves a tombstone there and arrives at `path`, in one transaction.
   */
  readonly moveFrom?: { readonly path: string; readonly baseVersion: number };
}

/** Who commits: the verified caller. */
export interface Actor {
  readonly userId: string;
  readonly deviceId: string;
  readonly email: string;
  /** Whether the caller's address is confirmed; only confirmed addresses are mailed. */
  readonly emailVerified?: boolean;
}

/** A follow of a file or folder ("" = the whole namespace). */
export interface Follow {
  readonly namespaceId: string;
  readonly path: string;
  readonly userId: string;
  readonly email: string;
  /** Recorded with the follow; follows without it (made before verification existed) are not mailed. */
  readonly emailVerified?: boolean;
}

/** The outcome of one change of a commit call. */
export type ChangeOutcome =
  | { readonly kind: 'committed'; readonly path: string; readonly entry: FileEntry }
  /** Stale base or nothing to delete: `current` is the current entry, undefined when the path never existed. */
  | { readonly kind: 'conflict'; readonly path: string; readonly current: FileEntry | undefined }
  | { readonly kind: 'missing-blocks'; readonly path: string; readonly blockHashes: readonly string[] }
  | PathRejection;

/** Why one change was refused on its own (the request's other changes are still considered). */
export type RejectionReason = 'invalid-path' | 'invalid-change' | 'path-clash' | 'mass-delete';

export interface PathRejection {
  readonly kind: 'rejected';
  /** The path as the request named it (it may not be canonical when the path itself is invalid). */
  readonly path: string;
  readonly reason: RejectionReason;
  readonly message: string;
  /** For 'path-clash': the live path this change clashes with. */
  readonly clashingPath?: string;
}

/** What a commit call asks besides its changes. */
export interface CommitOptions {
  /** The user explicitly confirmed a mass deletion (`confirm_mass_delete`). */
  readonly confirmMassDelete: boolean;
}

export interface CommitResult {
  /** One outcome per change, in request order. */
  readonly outcomes: readonly ChangeOutcome[];
  /** The namespace's journal sequence after the call. */
  readonly cursor: number;
}

/**
 * Block hashes a journal change carries inline at most (JournalChange.blockHashes): 8 × 64 bytes
 * per change keeps a transaction's journal item far below DynamoDB's 400 KB, and covers every file
 * of up to 8 blocks (all small files).
 */
export const JOURNAL_INLINE_BLOCKS = 8;

/** The journal entry of one committed transaction; long block lists live in the version items. */
export interface JournalRecord {
  readonly namespaceId: string;
  readonly seq: number;
  readonly committedAtMs: number;
  readonly actor: Actor;
  readonly changes: readonly JournalChange[];
}

export interface JournalChange {
  readonly path: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly size: number;
  readonly contentHash: string;
  readonly modifiedAtMs: number;
  /** See FileEntry.movedFrom and movedTo: set on the two halves of a move. */
  readonly movedFrom?: string;
  readonly movedTo?: string;
  /**
   * The version's block list when it has at most JOURNAL_INLINE_BLOCKS hashes (absent on a
   * deletion, on a longer list and on records written before lists were inlined): ListChanges
   * answers such a change from the journal alone, without reading the version's item.
   */
  readonly blockHashes?: readonly string[];
}

/**
 * The SQS message body announcing one committed transaction (agreed with the notifier, which
 * validates it): recipients are resolved at commit time so the notifier never calls back.
 */
export interface ChangeEvent {
  readonly eventId: string;
  readonly namespaceId: string;
  readonly seq: number;
  readonly committedAtMs: number;
  readonly actor: Actor;
  /**
   * The two halves of a move carry where the file went (`movedTo`, on the old path's tombstone)
   * and where it came from (`movedFrom`, on the new path's version).
   */
  readonly changes: readonly {
    path: string;
    version: number;
    deleted: boolean;
    size: number;
    movedFrom?: string;
    movedTo?: string;
  }[];
  readonly recipients: readonly { userId: string; email: string; emailVerified: true; paths: string[] }[];
}

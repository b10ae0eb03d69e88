/**
 * The sync client's own vocabulary of the server side: what the engine, the scanner, the folder
 * binding and their fakes speak. The proto messages of @filesync/contracts appear only in the
 * adapter that talks to the services (grpc/sync-remote.ts), which maps both ways and turns what
 * this model cannot say (an action kind or a refusal this client does not know) into something
 * harmless, never into a destructive action.
 *
 * Units throughout: versions count from 1 per path (0: none); journal seqs count from 1 per
 * namespace (0: none); sizes are bytes; times are Unix milliseconds; hashes are lowercase hex
 * SHA-256. Paths are canonical (NFC, '/'-separated, no leading or trailing '/'): namespace paths
 * at the adapter, folder paths once BoundRemote (remote-binding.ts) has mapped them.
 */
import type { Decision, LocalEntry, ServerState } from '@filesync/sync-core';

/** What a client does for one path: sync-core's decision kinds, the one vocabulary of the rule. */
export type { ActionKind } from '@filesync/sync-core';

/** The bytes of one version: its content-defined blocks in file order. */
export interface FileContent {
  /** SHA-256 over the blocks' raw digests, in order (contentHash in sync-core). */
  readonly contentHash: string;
  /** Bytes: the sum of the block sizes. */
  readonly size: number;
  /** Each block's hash, in file order; empty for an empty file. */
  readonly blockHashes: readonly string[];
}

/**
 * One version of a file as the server holds it (the current entry of a path, tombstones
 * included). A tombstone has no content: contentHash '', size 0, no blocks. What the engine does
 * not use of the server's entry (namespace, committing device, commit time) is not carried.
 */
export interface ServerEntry extends ServerState, FileContent {
  readonly path: string;
  /** 1 and up; 0 only in a conflict's answer for a path that never existed (see ChangeOutcome). */
  readonly version: number;
  /** True for a tombstone: the file was deleted and sits in the trash. */
  readonly deleted: boolean;
  /** The modification time the committing client reported. */
  readonly modifiedAtMs: number;
  /** The journal seq of the commit that made this version. */
  readonly journalSeq: number;
  /** A version made by a move: the path the file came from (whose tombstone has `movedTo`); else ''. */
  readonly movedFrom: string;
  /** A tombstone written by a move: the path the file went to; else ''. */
  readonly movedTo: string;
}

/**
 * What this device knows of one path, as a diff's manifest names it: sync-core's LocalEntry
 * (the local file's content hash and size, the synced base version and its content hash, and
 * whether the synced file is gone here).
 */
export type ManifestEntry = LocalEntry;

/**
 * What to do for one path: the rule's decision (its kind, the version to commit against, the
 * server's entry when it has one) and the path it is for.
 */
export interface DiffAction extends Decision<ServerEntry> {
  readonly path: string;
}

/**
 * An action of a kind this client does not know (a newer server, or an unset kind): never
 * applied, only reported. `kind` is the server's word for it, for the log.
 */
export interface UnrecognizedAction {
  readonly path: string;
  readonly kind: string;
}

/**
 * One change to commit. `content` undefined means: delete the file (commit a tombstone). With
 * `moveFrom`, a move: the live file at `moveFrom.path`, at version `moveFrom.baseVersion` and with
 * this change's content (whose blocks are stored), leaves a tombstone there and arrives at `path`,
 * in one commit.
 */
export interface FileChange {
  readonly path: string;
  /** The current version as this device last saw it; 0 for a path it believes new. */
  readonly baseVersion: number;
  readonly content: FileContent | undefined;
  /** The local file's modification time; for a deletion, when it was sent. */
  readonly modifiedAtMs: number;
  readonly moveFrom?: { readonly path: string; readonly baseVersion: number };
}

/**
 * Why the server refused one change for its path alone. 'other': a refusal the engine cannot
 * settle (the server gave no reason, or one this client does not know): the path fails with
 * `message`.
 */
export type RejectionReason = 'invalid-path' | 'invalid-change' | 'path-clash' | 'mass-delete' | 'other';

/** The outcome of one change of a commit call. */
export type ChangeOutcome =
  /** Committed: `entry` is the new current entry. */
  | { readonly kind: 'committed'; readonly path: string; readonly entry: ServerEntry }
  /**
   * The base version is stale (or the move's source or target is not as it was): `current` is the
   * path's current entry, a tombstone of version 0 when the path never existed.
   */
  | { readonly kind: 'conflict'; readonly path: string; readonly current: ServerEntry }
  /** Some blocks of the content are not stored (yet, or any more). */
  | { readonly kind: 'missing-blocks'; readonly path: string; readonly blockHashes: readonly string[] }
  | PathRejection;

/** A change refused for its path alone; the call's other changes were still considered. */
export interface PathRejection {
  readonly kind: 'rejected';
  readonly path: string;
  readonly reason: RejectionReason;
  /** What is wrong, for the user's eyes; may be ''. */
  readonly message: string;
  /** For 'path-clash': the live path this change clashes with (never ''); '' otherwise. */
  readonly clashingPath: string;
}

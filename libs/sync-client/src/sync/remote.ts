import { LIMITS } from '@filesync/resources';
import type { ChangeOutcome, DiffAction, FileChange, ManifestEntry, UnrecognizedAction } from './model';

export interface DiffOutcome {
  /** One per path that needs work, in path order. */
  readonly actions: DiffAction[];
  /**
   * Actions of a kind this client does not know (a newer server): never applied, only reported.
   * Absent means none.
   */
  readonly unrecognized?: readonly UnrecognizedAction[];
  /** The namespace cursor the diff was computed at. */
  readonly cursor: number;
  /** An incremental diff the server would not compute (no actions): run a full one. */
  readonly fullDiffRequired?: boolean;
  /**
   * The server read the cursor (see DiffSummary.incremental); false from a server that does not
   * know incremental diffs, whose answer to one is unusable.
   */
  readonly incremental?: boolean;
  /**
   * The remote root the server applied (DiffSummary.remote_root); '' from a server that does not
   * know remote roots, whose answer covers the whole namespace.
   */
  readonly remoteRoot?: string;
  /**
   * The resume point the server applied (DiffSummary.resume_after); '' from a server that does not
   * resume diffs, whose answer to a resumed one is unusable.
   */
  readonly resumeAfter?: string;
}

export interface DiffOptions {
  /**
   * 0 or absent: `manifest` is the whole folder. Otherwise the journal cursor this folder has
   * applied, and `manifest` names only what changed (see syncdiff.proto, Diff).
   */
  readonly sinceCursor?: number;
  /**
   * The folder's remote root ('' or absent: the namespace root): the server considers only the
   * paths below it, and every manifest path must lie below it (see remote-binding.ts).
   */
  readonly remoteRoot?: string;
  /**
   * A full diff only: resume an earlier full diff of this folder that broke off after this path
   * (a DiffProgress's throughPath): the manifest first names the paths at or before it to decide
   * again, then holds every path after it (see syncdiff.proto, Diff).
   */
  readonly resumeAfter?: string;
  /**
   * Called as a full diff goes, with the actions received since the last call: what to keep so
   * that a diff that breaks off can be resumed. The last call comes with the summary.
   */
  readonly onProgress?: (progress: DiffProgress) => void;
}

/** How far a full diff has come (see DiffOptions.onProgress). */
export interface DiffProgress {
  /** Every path up to and including this one is decided: its action is in this or an earlier call. */
  readonly throughPath: string;
  /** The cursor the server's listing started at. */
  readonly cursor: number;
  /** Actions received since the last call, in path order. */
  readonly actions: readonly DiffAction[];
  /** Actions of kinds this client does not know received so far: such a diff cannot be resumed. */
  readonly unrecognized: number;
}

export interface CommitOutcome {
  /** One per change, in request order. */
  readonly results: ChangeOutcome[];
  /** The namespace's journal seq after the call. */
  readonly cursor: number;
}

/** Where one block is stored. */
export interface BlockLocation {
  /** Lowercase hex SHA-256 of the block. */
  readonly hash: string;
  /** The pack holding it; '' for a legacy block stored as an object of its own (blockKey). */
  readonly packId: string;
  /** Byte offset of the block in its object (0 for a legacy block). */
  readonly offset: number;
  /** Bytes; for a legacy block possibly 0 (unknown): the whole object is the block. */
  readonly length: number;
}

export interface LocatedBlocks {
  readonly locations: BlockLocation[];
  /** Hashes the namespace does not hold. */
  readonly missing: string[];
}

/** The server side of a sync as the engine sees it; gRPC (grpc/sync-remote.ts) is one implementation. */
export interface SyncRemote {
  /** `manifest` in comparePaths order; it is read once, as the stream takes it. */
  diff(namespaceId: string, manifest: Iterable<ManifestEntry>, options?: DiffOptions): Promise<DiffOutcome>;
  findMissingBlocks(namespaceId: string, hashes: readonly string[]): Promise<string[]>;
  /** Where blocks are stored; any number of hashes (the adapter splits them into calls). */
  locateBlocks(namespaceId: string, hashes: readonly string[]): Promise<LocatedBlocks>;
  /**
   * At most LIMITS.maxChangesPerCommit changes. `confirmMassDelete` only when the user confirmed
   * (`--force`): without it the server refuses a mass deletion per path.
   */
  commitFiles(
    namespaceId: string,
    changes: readonly FileChange[],
    options?: CommitOptions,
  ): Promise<CommitOutcome>;
  /**
   * Records packs this client wrote (each object already in storage) in the namespace's block
   * index; afterwards their blocks count as stored for commits. Any number of packs: the adapter
   * splits them into calls the server accepts. Idempotent.
   */
  registerPacks(namespaceId: string, packs: readonly PackRecord[]): Promise<void>;
}

/** One pack object written to storage, as RegisterPacks records it. */
export interface PackRecord {
  /** Lowercase hex SHA-256 of the whole object. */
  readonly packId: string;
  /** Object size in bytes, trailer included. */
  readonly size: number;
  /** The pack's blocks in offset order; offsets and lengths in bytes. */
  readonly blocks: readonly { readonly hash: string; readonly offset: number; readonly length: number }[];
}

export interface CommitOptions {
  readonly confirmMassDelete?: boolean;
}

/**
 * Splits packs into RegisterPacks requests of at most LIMITS.maxPacksPerRegister packs and
 * LIMITS.maxBlockHashesPerQuery blocks (a pack is never split; one holds at most
 * LIMITS.maxBlocksPerPack blocks).
 */
export function registerBatches(packs: readonly PackRecord[]): PackRecord[][] {
  const batches: PackRecord[][] = [];
  let current: PackRecord[] = [];
  let blocks = 0;
  for (const pack of packs) {
    if (
      current.length > 0 &&
      (current.length >= LIMITS.maxPacksPerRegister ||
        blocks + pack.blocks.length > LIMITS.maxBlockHashesPerQuery)
    ) {
      batches.push(current);
      current = [];
      blocks = 0;
    }
    current.push(pack);
    blocks += pack.blocks.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

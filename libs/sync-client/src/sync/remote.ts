import type { ClientDuplexStream } from '@grpc/grpc-js';
import { callMetadata, callOptions, metadata, syncdiff, unary } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import { TIMEOUTS, type ServiceClients } from '../grpc/clients';

export interface DiffOutcome {
  readonly actions: syncdiff.DiffAction[];
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
}

/** The Diff action of each kind of decision of the shared rule (one map, in @filesync/contracts). */
export { ACTION_OF } from '@filesync/contracts';

export interface CommitOutcome {
  readonly results: metadata.CommitResult[];
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

/** The server side of a sync as the engine sees it; gRPC is one implementation. */
export interface SyncRemote {
  /** `manifest` in comparePaths order; it is read once, as the stream takes it. */
  diff(
    namespaceId: string,
    manifest: Iterable<syncdiff.ManifestEntry>,
    options?: DiffOptions,
  ): Promise<DiffOutcome>;
  findMissingBlocks(namespaceId: string, hashes: readonly string[]): Promise<string[]>;
  /** Where blocks are stored; any number of hashes (the adapter splits them into calls). */
  locateBlocks(namespaceId: string, hashes: readonly string[]): Promise<LocatedBlocks>;
  /**
   * At most LIMITS.maxChangesPerCommit changes. `confirmMassDelete` only when the user confirmed
   * (`--force`): without it the server refuses a mass deletion per path.
   */
  commitFiles(
    namespaceId: string,
    changes: metadata.FileChange[],
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

export class GrpcSyncRemote implements SyncRemote {
  constructor(
    private readonly clients: ServiceClients,
    private readonly accessToken: () => Promise<string>,
  ) {}

  async diff(
    namespaceId: string,
    manifest: Iterable<syncdiff.ManifestEntry>,
    options: DiffOptions = {},
  ): Promise<DiffOutcome> {
    const token = await this.accessToken();
    const call = this.clients.syncDiff.diff(callMetadata(token), callOptions({ timeoutMs: TIMEOUTS.diffMs }));
    // Read while writing: the server may answer before the manifest is complete, and an
    // unread response stream would stall it.
    const reading = readDiff(call);
    const start = {
      namespaceId,
      sinceCursor: options.sinceCursor ?? 0,
      remoteRoot: options.remoteRoot ?? '',
    };
    const writing = writeManifest(call, start, manifest);
    const [outcome] = await Promise.all([
      reading,
      writing.catch(async (error) => {
        call.cancel();
        await reading.catch(() => undefined);
        throw error;
      }),
    ]);
    return outcome;
  }

  async findMissingBlocks(namespaceId: string, hashes: readonly string[]): Promise<string[]> {
    const missing: string[] = [];
    for (let i = 0; i < hashes.length; i += LIMITS.maxBlockHashesPerQuery) {
      const response = await unary(
        this.clients.syncDiff.findMissingBlocks.bind(this.clients.syncDiff),
        { namespaceId, blockHashes: hashes.slice(i, i + LIMITS.maxBlockHashesPerQuery) },
        { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.accessToken() },
      );
      missing.push(...response.missingBlockHashes);
    }
    return missing;
  }

  async locateBlocks(namespaceId: string, hashes: readonly string[]): Promise<LocatedBlocks> {
    const located: LocatedBlocks = { locations: [], missing: [] };
    for (let i = 0; i < hashes.length; i += LIMITS.maxBlockHashesPerQuery) {
      const response = await unary(
        this.clients.metadata.locateBlocks.bind(this.clients.metadata),
        { namespaceId, blockHashes: hashes.slice(i, i + LIMITS.maxBlockHashesPerQuery) },
        { timeoutMs: TIMEOUTS.unaryMs, accessToken: await this.accessToken() },
      );
      for (const location of response.locations) {
        located.locations.push({
          hash: location.blockHash,
          packId: location.packId,
          offset: location.offset,
          length: location.length,
        });
      }
      located.missing.push(...response.missingBlockHashes);
    }
    return located;
  }

  async commitFiles(
    namespaceId: string,
    changes: metadata.FileChange[],
    options: CommitOptions = {},
  ): Promise<CommitOutcome> {
    const response = await unary(
      this.clients.metadata.commitFiles.bind(this.clients.metadata),
      { confirmMassDelete: options.confirmMassDelete === true, namespaceId, changes },
      { timeoutMs: TIMEOUTS.commitMs, accessToken: await this.accessToken() },
    );
    return { results: response.results, cursor: response.cursor };
  }

  async registerPacks(namespaceId: string, packs: readonly PackRecord[]): Promise<void> {
    for (const batch of registerBatches(packs)) {
      // The server checks each pack object in storage before indexing it: a commit's deadline.
      await unary(
        this.clients.metadata.registerPacks.bind(this.clients.metadata),
        {
          namespaceId,
          packs: batch.map((pack) => ({
            packId: pack.packId,
            size: pack.size,
            blocks: pack.blocks.map((block) => ({
              blockHash: block.hash,
              offset: block.offset,
              length: block.length,
            })),
          })),
        },
        { timeoutMs: TIMEOUTS.commitMs, accessToken: await this.accessToken() },
      );
    }
  }
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

type DiffCall = ClientDuplexStream<syncdiff.DiffRequest, syncdiff.DiffResponse>;

async function readDiff(call: DiffCall): Promise<DiffOutcome> {
  const actions: syncdiff.DiffAction[] = [];
  let summary: syncdiff.DiffSummary | undefined;
  for await (const response of call as AsyncIterable<syncdiff.DiffResponse>) {
    const message = response.message;
    if (message?.$case === 'action') actions.push(message.value);
    else if (message?.$case === 'summary') summary = message.value;
  }
  if (summary === undefined) throw new Error('sync-diff ended the diff without a summary');
  return {
    actions,
    cursor: summary.cursor,
    fullDiffRequired: summary.fullDiffRequired,
    incremental: summary.incremental,
    remoteRoot: summary.remoteRoot,
  };
}

async function writeManifest(
  call: DiffCall,
  start: syncdiff.DiffStart,
  manifest: Iterable<syncdiff.ManifestEntry>,
) {
  const send = (request: syncdiff.DiffRequest) =>
    call.write(request) ? Promise.resolve() : new Promise<void>((resolve) => drainedOrClosed(call, resolve));
  await send({ message: { $case: 'start', value: start } });
  for (const entry of manifest) {
    if (call.destroyed || call.writableEnded) return;
    await send({ message: { $case: 'entry', value: entry } });
  }
  call.end();
}

/** Resolves on 'drain', or when the call ends early (its error surfaces on the read side). */
function drainedOrClosed(call: DiffCall, resolve: () => void): void {
  const done = () => {
    call.off('drain', done);
    call.off('close', done);
    call.off('error', done);
    resolve();
  };
  call.on('drain', done);
  call.on('close', done);
  call.on('error', done);
}

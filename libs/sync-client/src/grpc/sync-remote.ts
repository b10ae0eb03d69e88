import { status, type ClientDuplexStream } from '@grpc/grpc-js';
import { callMetadata, callOptions, grpcCode, unary, type syncdiff } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import { comparePaths } from '@filesync/sync-core';
import {
  registerBatches,
  type CommitOptions,
  type CommitOutcome,
  type DiffOptions,
  type DiffOutcome,
  type LocatedBlocks,
  type PackRecord,
  type SyncRemote,
} from '../sync/remote';
import type { DiffAction, FileChange, ManifestEntry, UnrecognizedAction } from '../sync/model';
import { TIMEOUTS, type ServiceClients } from './clients';
import { changeOutcomeOf, diffActionOf, fileChangeToProto, manifestEntryToProto } from './sync-mapping';

/**
 * The sync-diff and metadata services as the engine's SyncRemote (see sync/remote.ts): the
 * client's model in, the client's model out (grpc/sync-mapping.ts maps it).
 */
export class GrpcSyncRemote implements SyncRemote {
  constructor(
    private readonly clients: ServiceClients,
    private readonly accessToken: () => Promise<string>,
  ) {}

  async diff(
    namespaceId: string,
    manifest: Iterable<ManifestEntry>,
    options: DiffOptions = {},
  ): Promise<DiffOutcome> {
    const token = await this.accessToken();
    const call = this.clients.syncDiff.diff(callMetadata(token), callOptions({ timeoutMs: TIMEOUTS.diffMs }));
    // Read while writing: the server may answer before the manifest is complete, and an
    // unread response stream would stall it.
    const reading = readDiff(call, options.onProgress, options.resumeAfter ?? '');
    // A read that fails on our side (keeping progress failed) must not leave the server streaming.
    reading.catch(() => call.cancel());
    const start = {
      namespaceId,
      sinceCursor: options.sinceCursor ?? 0,
      remoteRoot: options.remoteRoot ?? '',
      resumeAfter: options.resumeAfter ?? '',
    };
    const writing = writeManifest(call, start, manifest);
    try {
      const [outcome] = await Promise.all([
        reading,
        writing.catch(async (error) => {
          call.cancel();
          await reading.catch(() => undefined);
          throw error;
        }),
      ]);
      return outcome;
    } catch (error) {
      if (refusesManifestBatches(error)) throw new ManifestBatchesUnsupportedError();
      throw error;
    }
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
    changes: readonly FileChange[],
    options: CommitOptions = {},
  ): Promise<CommitOutcome> {
    const response = await unary(
      this.clients.metadata.commitFiles.bind(this.clients.metadata),
      {
        confirmMassDelete: options.confirmMassDelete === true,
        namespaceId,
        changes: changes.map(fileChangeToProto),
      },
      { timeoutMs: TIMEOUTS.commitMs, accessToken: await this.accessToken() },
    );
    return { results: response.results.map(changeOutcomeOf), cursor: response.cursor };
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

type DiffCall = ClientDuplexStream<syncdiff.DiffRequest, syncdiff.DiffResponse>;

/** The server takes manifest entries one per message only (a sync-diff from before DiffRequest.entries). */
export class ManifestBatchesUnsupportedError extends Error {
  override name = 'ManifestBatchesUnsupportedError';
  constructor() {
    super(
      'the server is older than this filesync (it takes the folder list one entry per message); ' +
        'nothing was changed, here or on the server. Try again once the server is updated.',
    );
  }
}

/**
 * How a sync-diff from before DiffRequest.entries refuses one: INVALID_ARGUMENT with this text (a
 * later one ends it with "or `entries`"). Such a server fails the pass before anything is applied.
 */
function refusesManifestBatches(error: unknown): boolean {
  return (
    grpcCode(error) === status.INVALID_ARGUMENT &&
    /every Diff message must be an `entry`$/.test((error as { details?: unknown }).details as string)
  );
}

async function readDiff(
  call: DiffCall,
  onProgress: DiffOptions['onProgress'],
  resumeAfter: string,
): Promise<DiffOutcome> {
  const actions: DiffAction[] = [];
  const unrecognized: UnrecognizedAction[] = [];
  let summary: syncdiff.DiffSummary | undefined;
  // Actions before this index were handed to onProgress already.
  let reported = 0;
  let throughPath = '';
  const report = (path: string, cursor: number) => {
    throughPath = path;
    onProgress?.({
      throughPath,
      cursor,
      actions: actions.slice(reported),
      unrecognized: unrecognized.length,
    });
    reported = actions.length;
  };
  for await (const response of call as AsyncIterable<syncdiff.DiffResponse>) {
    const message = response.message;
    if (message?.$case === 'action') {
      const mapped = diffActionOf(message.value);
      if ('action' in mapped) actions.push(mapped.action);
      else unrecognized.push(mapped.unrecognized);
    } else if (message?.$case === 'progress') {
      report(message.value.throughPath, message.value.cursor);
    } else if (message?.$case === 'summary') summary = message.value;
  }
  if (summary === undefined) throw new Error('sync-diff ended the diff without a summary');
  // With the summary every path is decided: the last action's path is as far as any progress.
  // Not from a server that ignored the resume point: its answer is not applied (see the engine).
  const last = actions.at(-1)?.path;
  const whole = !summary.incremental && !summary.fullDiffRequired && summary.resumeAfter === resumeAfter;
  if (whole && (reported < actions.length || throughPath !== '')) {
    report(last !== undefined && comparePaths(last, throughPath) > 0 ? last : throughPath, summary.cursor);
  }
  return {
    actions,
    unrecognized,
    cursor: summary.cursor,
    fullDiffRequired: summary.fullDiffRequired,
    incremental: summary.incremental,
    remoteRoot: summary.remoteRoot,
    resumeAfter: summary.resumeAfter,
  };
}

/**
 * Streams `start`, then the manifest in `entries` messages of up to
 * LIMITS.maxManifestEntriesPerMessage: one message per entry cost about 12 KB of garbage each in
 * grpc-js (its retry buffer, copied on every write, and per-message objects), so a first sync of
 * 100,000 files allocated 1.2 GB in the diff and its heap outgrew the collector.
 */
async function writeManifest(call: DiffCall, start: syncdiff.DiffStart, manifest: Iterable<ManifestEntry>) {
  const send = (request: syncdiff.DiffRequest) =>
    call.write(request) ? Promise.resolve() : new Promise<void>((resolve) => drainedOrClosed(call, resolve));
  await send({ message: { $case: 'start', value: start } });
  let batch: syncdiff.ManifestEntry[] = [];
  const flush = async () => {
    const entries = batch;
    batch = [];
    await send({ message: { $case: 'entries', value: { entries } } });
  };
  for (const entry of manifest) {
    if (call.destroyed || call.writableEnded) return;
    batch.push(manifestEntryToProto(entry));
    if (batch.length === LIMITS.maxManifestEntriesPerMessage) await flush();
  }
  if (batch.length > 0 && !call.destroyed && !call.writableEnded) await flush();
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

import { LIMITS } from '@filesync/resources';
import { ACTION_OF, syncdiff } from '@filesync/contracts';
import {
  DomainError,
  invalidArgument,
  permissionDenied,
  type CallContext,
  type Handlers,
} from '@filesync/server-kit';
import { InvalidPathError, canonicalPath, isBlockHash } from '@filesync/sync-core';
import { callBudget } from './call-budget';
import { diffManifest, type DiffOutput, type HeldEntriesProbe } from './domain/diff';
import { diffSinceCursor } from './domain/incremental';
import { ManifestReader, type ManifestEntryInput } from './domain/manifest';
import type { ServerFiles } from './domain/ports';
import { assertRootIsNoFile, isBelowRoot, parseRemoteRoot } from './domain/remote-root';
import { resumeFullDiff } from './domain/resume';
import type { MetadataFile } from './adapters/metadata-files';
import { StreamLimit } from './stream-limit';

/**
 * A diff of a large folder streams for a while (the listing stays open while the client sends
 * its manifest); a caller without a deadline gets this much, as much as the client asks for.
 */
const DIFF_MAX_MS = 10 * 60_000;
const UNARY_MAX_MS = 10_000;
/** What a user refused a further Diff stream is told to wait before retrying. */
const STREAM_RETRY_AFTER_MS = 5_000;

export interface SyncDiffDependencies {
  readonly files: ServerFiles<MetadataFile>;
  /** See SyncDiffConfig.diffIdleTimeoutMs. */
  readonly idleTimeoutMs: number;
  /** See SyncDiffConfig.diffStreamsPerUser. */
  readonly streamsPerUser: number;
  /** Watches how many entries each diff holds at once; tests use it to see memory stay bounded. */
  readonly heldEntriesProbe?: HeldEntriesProbe;
}

export function createHandlers({
  files,
  idleTimeoutMs,
  streamsPerUser,
  heldEntriesProbe,
}: SyncDiffDependencies): Handlers<typeof syncdiff.SyncDiffServiceService> {
  const streams = new StreamLimit(streamsPerUser, STREAM_RETRY_AFTER_MS);
  return {
    async *diff(requests, context) {
      const messages = withIdleTimeout(requests, idleTimeoutMs);
      const first = await messages.next();
      const start = first.done ? undefined : first.value.message;
      if (start?.$case !== 'start') {
        throw invalidArgument('the first Diff message must be `start` naming the namespace');
      }
      const { sinceCursor } = start.value;
      if (!Number.isSafeInteger(sinceCursor) || sinceCursor < 0) {
        throw invalidArgument('since_cursor must be 0 (a full diff) or a cursor of an earlier DiffSummary');
      }
      const remoteRoot = parseRemoteRoot(start.value.remoteRoot);
      const resumeAfter = parseResumeAfter(start.value.resumeAfter, sinceCursor, remoteRoot);
      const namespaceId = await authorizedNamespace(start.value.namespaceId, context);
      const release = streams.acquire((await context.principal()).userId);
      try {
        const manifest = new ManifestReader(entriesOf(messages), remoteRoot);
        const budget = callBudget(context, DIFF_MAX_MS);
        await assertRootIsNoFile(files, namespaceId, remoteRoot, budget);
        const outputs =
          sinceCursor > 0
            ? diffSinceCursor(manifest, files, { namespaceId, sinceCursor, budget, remoteRoot })
            : resumeAfter !== ''
              ? resumeFullDiff(
                  manifest,
                  files,
                  { namespaceId, resumeAfter, budget, remoteRoot },
                  heldEntriesProbe,
                )
              : diffManifest(manifest, files.list(namespaceId, budget, remoteRoot), heldEntriesProbe);
        for await (const output of outputs)
          yield toResponse(output, sinceCursor > 0, remoteRoot, resumeAfter);
        context.logger.debug(
          { namespaceId, sinceCursor, remoteRoot, resumeAfter, entries: manifest.received },
          'diff done',
        );
      } finally {
        release();
      }
    },

    async findMissingBlocks(request, context) {
      if (request.blockHashes.length > LIMITS.maxBlockHashesPerQuery) {
        throw invalidArgument(`at most ${LIMITS.maxBlockHashesPerQuery} block hashes per request`);
      }
      const bad = request.blockHashes.find((hash) => !isBlockHash(hash));
      if (bad !== undefined) {
        throw invalidArgument(
          `block hash ${JSON.stringify(bad.slice(0, 80))} is not 64 lowercase hex characters`,
        );
      }
      const namespaceId = await authorizedNamespace(request.namespaceId, context);
      if (request.blockHashes.length === 0) return { missingBlockHashes: [] };
      const missing = await files.findMissingBlocks(
        namespaceId,
        request.blockHashes,
        callBudget(context, UNARY_MAX_MS),
      );
      return { missingBlockHashes: missing };
    },
  };
}

/**
 * DiffStart.resume_after: '' (a whole diff), or a canonical path below the remote root, with a
 * full diff only (an incremental one has nothing to resume). INVALID_ARGUMENT otherwise.
 */
function parseResumeAfter(value: string, sinceCursor: number, remoteRoot: string): string {
  if (value === '') return '';
  if (sinceCursor > 0) throw invalidArgument('resume_after resumes a full diff: since_cursor must be 0');
  let path: string;
  try {
    path = canonicalPath(value);
  } catch (error) {
    if (error instanceof InvalidPathError) throw invalidArgument(`resume_after: ${error.message}`);
    throw error;
  }
  if (path !== value) throw invalidArgument('resume_after must be a canonical path');
  if (!isBelowRoot(path, remoteRoot)) throw invalidArgument('resume_after must lie below remote_root');
  return path;
}

/**
 * The manifest entries that follow `start`, one per `entry` message or several per `entries`
 * message. INVALID_ARGUMENT for another kind of message, an empty `entries`, or one of more than
 * LIMITS.maxManifestEntriesPerMessage.
 */
async function* entriesOf(
  messages: AsyncIterator<syncdiff.DiffRequest>,
): AsyncGenerator<ManifestEntryInput, void, undefined> {
  for (let next = await messages.next(); !next.done; next = await messages.next()) {
    const message = next.value.message;
    if (message?.$case === 'entry') {
      yield message.value;
    } else if (message?.$case === 'entries') {
      const { entries } = message.value;
      if (entries.length === 0 || entries.length > LIMITS.maxManifestEntriesPerMessage) {
        throw invalidArgument(
          `an \`entries\` message holds 1 to ${LIMITS.maxManifestEntriesPerMessage} manifest entries, not ${entries.length}`,
        );
      }
      yield* entries;
    } else {
      throw invalidArgument('after `start`, every Diff message must be an `entry` or `entries`');
    }
  }
}

/**
 * The client's messages, ended with DEADLINE_EXCEEDED when the next one takes longer than
 * `idleMs` to come. Only the wait for the client counts: time the diff spends on the listing or
 * on writing answers does not.
 */
function withIdleTimeout<T>(source: AsyncIterable<T>, idleMs: number): AsyncIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    async next() {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new DomainError(
                'deadline-exceeded',
                `no Diff message for ${idleMs} ms: the server ended the diff; stream the manifest without pausing`,
              ),
            ),
          idleMs,
        );
      });
      try {
        return await Promise.race([iterator.next(), idle]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The namespace id, once the caller's token names it; UNAUTHENTICATED or PERMISSION_DENIED otherwise. */
async function authorizedNamespace(namespaceId: string, context: CallContext): Promise<string> {
  if (namespaceId === '') throw invalidArgument('namespace_id is required');
  const principal = await context.principal();
  if (!principal.namespaceIds.includes(namespaceId)) {
    throw permissionDenied('the access token does not grant this namespace');
  }
  return namespaceId;
}

function toResponse(
  output: DiffOutput<MetadataFile>,
  incremental: boolean,
  remoteRoot: string,
  resumeAfter: string,
): syncdiff.DiffResponse {
  if (output.type === 'summary') {
    const { cursor, entriesReceived, actionsSent, fullDiffRequired } = output;
    return {
      message: {
        $case: 'summary',
        value: {
          cursor,
          entriesReceived,
          actionsSent,
          fullDiffRequired,
          incremental,
          remoteRoot,
          resumeAfter,
        },
      },
    };
  }
  if (output.type === 'progress') {
    const { throughPath, cursor } = output;
    return { message: { $case: 'progress', value: { throughPath, cursor } } };
  }
  const { decision } = output;
  return {
    message: {
      $case: 'action',
      value: {
        path: output.path,
        kind: ACTION_OF[decision.kind],
        baseVersion: decision.baseVersion,
        serverEntry: decision.server?.entry,
      },
    },
  };
}

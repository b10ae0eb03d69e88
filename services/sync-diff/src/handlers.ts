import { LIMITS } from '@filesync/resources';
import { syncdiff } from '@filesync/contracts';
import { invalidArgument, permissionDenied, type CallContext, type Handlers } from '@filesync/server-kit';
import { isBlockHash } from '@filesync/sync-core';
import { callBudget } from './call-budget';
import type { ActionKind } from './domain/decide';
import { diffManifest, type DiffOutput } from './domain/diff';
import { Manifest } from './domain/manifest';
import type { ServerFiles } from './domain/ports';
import type { MetadataFile } from './adapters/metadata-files';

/** A large namespace streams for a while; a caller without a deadline gets this much. */
const LIST_FILES_MAX_MS = 5 * 60_000;
const UNARY_MAX_MS = 10_000;

const ACTION_KINDS: Record<ActionKind, syncdiff.ActionKind> = {
  upload: syncdiff.ActionKind.ACTION_KIND_UPLOAD,
  download: syncdiff.ActionKind.ACTION_KIND_DOWNLOAD,
  'delete-local': syncdiff.ActionKind.ACTION_KIND_DELETE_LOCAL,
  'delete-remote': syncdiff.ActionKind.ACTION_KIND_DELETE_REMOTE,
  conflict: syncdiff.ActionKind.ACTION_KIND_CONFLICT,
  record: syncdiff.ActionKind.ACTION_KIND_RECORD,
};

export interface SyncDiffDependencies {
  readonly files: ServerFiles<MetadataFile>;
}

export function createHandlers({
  files,
}: SyncDiffDependencies): Handlers<typeof syncdiff.SyncDiffServiceService> {
  return {
    async *diff(requests, context) {
      const messages = requests[Symbol.asyncIterator]();
      const first = await messages.next();
      const start = first.done ? undefined : first.value.message;
      if (start?.$case !== 'start') {
        throw invalidArgument('the first Diff message must be `start` naming the namespace');
      }
      const namespaceId = await authorizedNamespace(start.value.namespaceId, context);

      const manifest = new Manifest();
      for (let next = await messages.next(); !next.done; next = await messages.next()) {
        const message = next.value.message;
        if (message?.$case !== 'entry') {
          throw invalidArgument('after `start`, every Diff message must be an `entry`');
        }
        manifest.add(message.value);
      }
      context.logger.debug({ namespaceId, entries: manifest.size }, 'manifest received');

      const listing = files.list(namespaceId, callBudget(context, LIST_FILES_MAX_MS));
      for await (const output of diffManifest(manifest, listing)) yield toResponse(output);
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

/** The namespace id, once the caller's token names it; UNAUTHENTICATED or PERMISSION_DENIED otherwise. */
async function authorizedNamespace(namespaceId: string, context: CallContext): Promise<string> {
  if (namespaceId === '') throw invalidArgument('namespace_id is required');
  const principal = await context.principal();
  if (!principal.namespaceIds.includes(namespaceId)) {
    throw permissionDenied('the access token does not grant this namespace');
  }
  return namespaceId;
}

function toResponse(output: DiffOutput<MetadataFile>): syncdiff.DiffResponse {
  if (output.type === 'summary') {
    const { cursor, entriesReceived, actionsSent } = output;
    return { message: { $case: 'summary', value: { cursor, entriesReceived, actionsSent } } };
  }
  const { decision } = output;
  return {
    message: {
      $case: 'action',
      value: {
        path: output.path,
        kind: ACTION_KINDS[decision.kind],
        baseVersion: decision.baseVersion,
        serverEntry: decision.server?.entry,
      },
    },
  };
}

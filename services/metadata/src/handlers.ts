import type { common, metadata } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import { failedPrecondition, type CallContext, type Handlers } from '@filesync/server-kit';
import type { MetadataService } from './domain/metadata-service';
import type { Actor, ChangeOutcome, FileEntry } from './domain/model';
import {
  checkBlockHashes,
  checkChange,
  checkChanges,
  checkDelete,
  checkFollowPath,
  checkJournalQuery,
  checkNamespace,
  checkPath,
} from './validation';

type MetadataHandlers = Handlers<typeof metadata.MetadataServiceService>;

/** The gRPC edge: authorise, validate, call the domain, map to proto. */
export function metadataHandlers(service: MetadataService): MetadataHandlers {
  return {
    async commitFile(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const change = checkChange(request.change);
      const { entry, cursor } = await service.commitOne(namespaceId, actor, change);
      return { entry: toProto(entry), cursor };
    },

    async commitFiles(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const changes = checkChanges(request.changes);
      const { outcomes, cursor } = await service.commitMany(namespaceId, actor, changes);
      return { results: outcomes.map((outcome) => toResult(namespaceId, outcome)), cursor };
    },

    async getFile(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      return { entry: toProto(await service.getFile(namespaceId, checkPath(request.path))) };
    },

    async *listFiles(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const { cursor, pages } = await service.listFiles(namespaceId, request.includeDeleted);
      let buffer: common.FileEntry[] = [];
      let sent = false;
      for await (const page of pages) {
        buffer.push(...page.map(toProto));
        while (buffer.length >= LIMITS.listFilesPageSize) {
          yield { entries: buffer.slice(0, LIMITS.listFilesPageSize), cursor };
          buffer = buffer.slice(LIMITS.listFilesPageSize);
          sent = true;
        }
      }
      // An empty namespace still answers once, so the client learns the cursor.
      if (buffer.length > 0 || !sent) yield { entries: buffer, cursor };
    },

    async listVersions(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const versions = await service.listVersions(namespaceId, checkPath(request.path));
      return { versions: versions.map(toProto) };
    },

    async deleteFile(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const change = checkDelete(request.path, request.baseVersion, Date.now());
      const { entry, cursor } = await service.commitOne(namespaceId, actor, change);
      return { entry: toProto(entry), cursor };
    },

    async follow(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const path = checkFollowPath(request.path);
      // Follows are mailed: only to an address its owner has confirmed (the token's email_verified).
      if (!(await context.principal()).emailVerified) {
        throw failedPrecondition(
          'verify your email first: filesync verify CODE (the code was mailed at sign-up; ' +
            '`filesync verify --resend` mails a new one)',
        );
      }
      await service.follow(namespaceId, path, { ...actor, emailVerified: true });
      return {};
    },

    async unfollow(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      await service.unfollow(namespaceId, checkFollowPath(request.path), actor);
      return {};
    },

    async listChanges(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const { afterSeq, limit } = checkJournalQuery(request.afterCursor, request.limit);
      const page = await service.listChanges(namespaceId, afterSeq, limit);
      return {
        entries: page.entries.map(({ seq, changes }) => ({ seq, changes: changes.map(toProto) })),
        cursor: page.cursor,
        hasMore: page.hasMore,
      };
    },

    async findMissingBlocks(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const hashes = checkBlockHashes(request.blockHashes);
      return { missingBlockHashes: await service.findMissingBlocks(namespaceId, hashes) };
    },
  };
}

async function authorise(
  context: CallContext,
  namespaceId: string,
): Promise<{ actor: Actor; namespaceId: string }> {
  const principal = await context.principal();
  return {
    actor: { userId: principal.userId, deviceId: principal.deviceId, email: principal.email },
    namespaceId: checkNamespace(principal, namespaceId),
  };
}

export function toProto(entry: FileEntry): common.FileEntry {
  return {
    namespaceId: entry.namespaceId,
    path: entry.path,
    version: entry.version,
    content:
      entry.deleted || !entry.content
        ? undefined
        : {
            contentHash: entry.content.contentHash,
            size: entry.content.size,
            blockHashes: [...entry.content.blockHashes],
          },
    deleted: entry.deleted,
    modifiedAtMs: entry.modifiedAtMs,
    committedAtMs: entry.committedAtMs,
    deviceId: entry.deviceId,
    journalSeq: entry.journalSeq,
  };
}

export function toResult(namespaceId: string, outcome: ChangeOutcome): metadata.CommitResult {
  switch (outcome.kind) {
    case 'committed':
      return { path: outcome.path, outcome: { $case: 'committed', value: toProto(outcome.entry) } };
    case 'missing-blocks':
      return {
        path: outcome.path,
        outcome: { $case: 'missingBlocks', value: { blockHashes: [...outcome.blockHashes] } },
      };
    case 'conflict':
      return {
        path: outcome.path,
        outcome: {
          $case: 'conflict',
          // A path that never existed is reported as version 0 with nothing in it.
          value: toProto(
            outcome.current ?? {
              namespaceId,
              path: outcome.path,
              version: 0,
              deleted: true,
              content: undefined,
              modifiedAtMs: 0,
              committedAtMs: 0,
              deviceId: '',
              journalSeq: 0,
            },
          ),
        },
      };
  }
}

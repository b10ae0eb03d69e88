import { metadata, type common } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import { failedPrecondition, type CallContext, type Handlers } from '@filesync/server-kit';
import type { MetadataService } from './domain/metadata-service';
import type {
  Actor,
  ChangeOutcome,
  FileEntry,
  RejectionReason,
  RestoreOutcome,
  RestoreRefusalReason,
} from './domain/model';
import {
  checkBlockHashes,
  checkChange,
  checkChanges,
  checkDelete,
  checkFollowPath,
  checkFollowsLimit,
  checkFollowsPageToken,
  checkJournalQuery,
  checkNamespace,
  checkPacks,
  checkPath,
  checkPathList,
  checkRestorePageToken,
  checkRestorePaths,
  checkRestoreVersion,
  checkTrashLimit,
  checkTrashPageToken,
  checkListPrefix,
  checkListStartAfter,
  checkTrashPrefix,
  encodePageToken,
} from './validation';

type MetadataHandlers = Handlers<typeof metadata.MetadataServiceService>;

/** Paths GetFiles reads at once (one DynamoDB BatchGetItem holds 100 keys). */
const GET_FILES_BATCH = 100;

/** Bytes of entries per ListFiles or GetFiles message, besides the page size in entries. */
export const LIST_PAGE_BYTES = 2 * 1024 * 1024;

const entryBytes = (entry: FileEntry) =>
  256 + Buffer.byteLength(entry.path, 'utf8') + 66 * (entry.content?.blockHashes.length ?? 0);

/** The gRPC edge: authorise, validate, call the domain, map to proto. */
export function metadataHandlers(service: MetadataService): MetadataHandlers {
  return {
    async commitFile(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const change = checkChange(request.change);
      const { entry, cursor } = await service.commitOne(namespaceId, actor, change, {
        confirmMassDelete: request.confirmMassDelete,
      });
      return { entry: toProto(entry), cursor };
    },

    async commitFiles(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const checked = checkChanges(request.changes);
      const valid = checked.flatMap((result) => (result.ok ? [result.change] : []));
      const committed =
        valid.length > 0
          ? await service.commitMany(namespaceId, actor, valid, {
              confirmMassDelete: request.confirmMassDelete,
            })
          : { outcomes: [], cursor: await service.head(namespaceId) };
      const outcomes = committed.outcomes[Symbol.iterator]();
      // Results in request order: invalid changes where they stood, the domain's outcomes between.
      const results = checked.map((result) =>
        toResult(namespaceId, result.ok ? outcomes.next().value! : result.rejection),
      );
      return { results, cursor: committed.cursor };
    },

    async getFile(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      return { entry: toProto(await service.getFile(namespaceId, checkPath(request.path))) };
    },

    async getFiles(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const paths = checkPathList(request.paths, LIMITS.maxPathsPerGetFiles);
      const entries: common.FileEntry[] = [];
      let bytes = 0;
      let answered = 0;
      // Read a batch at a time and stop at the first entry past the byte budget: a block list
      // costs 64 bytes a block, and a message must stay far below gRPC's 16 MB.
      let full = false;
      while (answered < paths.length && !full) {
        const batch = paths.slice(answered, answered + GET_FILES_BATCH);
        const found = await service.currentEntries(namespaceId, batch);
        for (const path of batch) {
          const entry = found.get(path);
          const size = entry ? entryBytes(entry) : 0;
          full = answered > 0 && bytes + size > LIST_PAGE_BYTES;
          if (full) break;
          if (entry) entries.push(toProto(entry));
          bytes += size;
          answered += 1;
        }
      }
      return { entries, pathsAnswered: answered };
    },

    async *listFiles(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const prefix = checkListPrefix(request.pathPrefix);
      const startAfter = checkListStartAfter(request.startAfter);
      const { cursor, pages } = await service.listFiles(namespaceId, request.includeDeleted, {
        prefix,
        startAfter,
        signal: context.signal,
      });
      let buffer: common.FileEntry[] = [];
      let bytes = 0;
      let sent = false;
      for await (const page of pages) {
        for (const entry of page) {
          // A page also ends at a byte budget: a file of many blocks carries 64 bytes per block
          // (issue 6, kind 10), and a message must stay far below the 16 MB gRPC limit.
          const size = entryBytes(entry);
          if (buffer.length > 0 && bytes + size > LIST_PAGE_BYTES) {
            yield { entries: buffer, cursor };
            [buffer, bytes, sent] = [[], 0, true];
          }
          buffer.push(toProto(entry));
          bytes += size;
          if (buffer.length >= LIMITS.listFilesPageSize) {
            yield { entries: buffer, cursor };
            [buffer, bytes, sent] = [[], 0, true];
          }
        }
      }
      // An empty namespace still answers once, so the client learns the cursor.
      if (buffer.length > 0 || !sent) yield { entries: buffer, cursor };
    },

    async listVersions(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const versions = await service.listVersions(namespaceId, checkPath(request.path));
      return {
        versions: versions.map(toProto),
        expiresAtMs: versions.map((version) => version.expiresAtMs ?? 0),
      };
    },

    async listTrash(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const prefix = checkTrashPrefix(request.pathPrefix);
      const limit = checkTrashLimit(request.limit);
      const after = checkTrashPageToken(request.pageToken, prefix);
      const page = await service.listTrash(namespaceId, prefix, after, limit, context.signal);
      const last = page.entries.at(-1);
      return {
        entries: page.entries.map((entry) => ({
          path: entry.path,
          version: entry.version,
          deletedAtMs: entry.deletedAtMs,
          deviceId: entry.deviceId,
          expiresAtMs: entry.expiresAtMs,
          size: entry.size,
        })),
        nextPageToken: page.hasMore && last ? encodePageToken({ after: last.path }) : '',
      };
    },

    async restoreFiles(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const paths = checkRestorePaths(request.paths);
      const resume = checkRestorePageToken(request.pageToken, paths);
      const { outcomes, cursor, next } = await service.restoreFiles(namespaceId, actor, paths, {
        resume,
        signal: context.signal,
      });
      return {
        results: outcomes.map(toRestoreResult),
        cursor,
        nextPageToken: next ? encodePageToken({ index: next.index, after: next.afterPath }) : '',
      };
    },

    async restoreVersion(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const path = checkPath(request.path);
      const { version, baseVersion } = checkRestoreVersion(request.version, request.baseVersion);
      const { entry, cursor } = await service.restoreVersion(namespaceId, actor, path, version, baseVersion);
      return { entry: toProto(entry), cursor };
    },

    async deleteFile(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const change = checkDelete(request.path, request.baseVersion, Date.now());
      const { entry, cursor } = await service.commitOne(namespaceId, actor, change, {
        confirmMassDelete: request.confirmMassDelete,
      });
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

    async listFollows(request, context) {
      const { actor, namespaceId } = await authorise(context, request.namespaceId);
      const limit = checkFollowsLimit(request.limit);
      const after = checkFollowsPageToken(request.pageToken);
      const page = await service.listFollows(namespaceId, actor, after, limit);
      const last = page.paths.at(-1);
      return {
        paths: page.paths,
        nextPageToken: page.hasMore && last !== undefined ? encodePageToken({ after: last }) : '',
      };
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

    async *watchChanges(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const { afterSeq } = checkJournalQuery(request.afterCursor, 0);
      const expiresAtMs = await context.principalExpiresAtMs?.();
      for await (const message of service.watchChanges(namespaceId, afterSeq, {
        signal: context.signal,
        expiresAtMs,
      })) {
        yield {
          entries: message.entries.map(({ seq, changes }) => ({ seq, changes: changes.map(toProto) })),
          cursor: message.cursor,
        };
      }
    },

    async findMissingBlocks(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const hashes = checkBlockHashes(request.blockHashes);
      return { missingBlockHashes: await service.findMissingBlocks(namespaceId, hashes) };
    },

    async registerPacks(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const packs = checkPacks(request.packs);
      const result = await service.registerPacks(namespaceId, packs);
      return { blocksIndexed: result.indexed, blocksAlreadyIndexed: result.alreadyIndexed };
    },

    async locateBlocks(request, context) {
      const { namespaceId } = await authorise(context, request.namespaceId);
      const hashes = checkBlockHashes(request.blockHashes);
      const { locations, missing } = await service.locateBlocks(namespaceId, hashes);
      return {
        locations: locations.map((location) => ({
          blockHash: location.hash,
          packId: location.packId ?? '',
          offset: location.offset,
          length: location.length,
        })),
        missingBlockHashes: missing,
      };
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
    movedFrom: entry.movedFrom ?? '',
    movedTo: entry.movedTo ?? '',
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
    case 'rejected':
      return {
        path: outcome.path,
        outcome: {
          $case: 'rejected',
          value: {
            reason: REJECTION_REASONS[outcome.reason],
            message: outcome.message,
            clashingPath: outcome.clashingPath ?? '',
          },
        },
      };
  }
}

export function toRestoreResult(outcome: RestoreOutcome): metadata.RestoreResult {
  return outcome.kind === 'restored'
    ? {
        path: outcome.path,
        fromVersion: outcome.fromVersion,
        outcome: { $case: 'restored', value: toProto(outcome.entry) },
      }
    : {
        path: outcome.path,
        fromVersion: outcome.fromVersion,
        outcome: {
          $case: 'refused',
          value: { reason: RESTORE_REFUSAL_REASONS[outcome.reason], message: outcome.message },
        },
      };
}

const RESTORE_REFUSAL_REASONS: Record<RestoreRefusalReason, metadata.RestoreRefusalReason> = {
  'not-in-trash': metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_NOT_IN_TRASH,
  live: metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_LIVE,
  expired: metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_EXPIRED,
  'path-clash': metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_PATH_CLASH,
  conflict: metadata.RestoreRefusalReason.RESTORE_REFUSAL_REASON_CONFLICT,
};

const REJECTION_REASONS: Record<RejectionReason, metadata.RejectionReason> = {
  'invalid-path': metadata.RejectionReason.REJECTION_REASON_INVALID_PATH,
  'invalid-change': metadata.RejectionReason.REJECTION_REASON_INVALID_CHANGE,
  'path-clash': metadata.RejectionReason.REJECTION_REASON_PATH_CLASH,
  'mass-delete': metadata.RejectionReason.REJECTION_REASON_MASS_DELETE,
};

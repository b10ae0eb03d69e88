import type { metadata } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import { invalidArgument, permissionDenied, type Principal } from '@filesync/server-kit';
import { InvalidPathError, canonicalPath, contentHash, isBlockHash } from '@filesync/sync-core';
import type { FileChange } from './domain/model';

/**
 * Request checks at the gRPC edge: everything the domain receives is canonical and consistent,
 * and every refusal names the field so a client developer can fix the caller.
 */

/** The namespace must be one the caller's token grants. */
export function checkNamespace(principal: Principal, namespaceId: string): string {
  if (!namespaceId) throw invalidArgument('namespace_id is required');
  if (!principal.namespaceIds.includes(namespaceId)) {
    throw permissionDenied('the access token does not grant this namespace');
  }
  return namespaceId;
}

export function checkPath(path: string, field = 'path'): string {
  try {
    return canonicalPath(path);
  } catch (error) {
    // The rule's message starts with "path ...": name the request field instead.
    if (error instanceof InvalidPathError)
      throw invalidArgument(`${field} ${error.message.replace(/^path /, '')}`);
    throw error;
  }
}

/** A follow may name the whole namespace with "". */
export function checkFollowPath(path: string): string {
  return path === '' ? '' : checkPath(path);
}

function checkCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${field} must be a non-negative integer`);
  }
  return value;
}

export function checkChange(change: metadata.FileChange | undefined, field = 'change'): FileChange {
  if (!change) throw invalidArgument(`${field} is required`);
  const path = checkPath(change.path, `${field}.path`);
  const baseVersion = checkCount(change.baseVersion, `${field}.base_version`);
  const modifiedAtMs = checkCount(change.modifiedAtMs, `${field}.modified_at_ms`);
  if (change.delete) return { path, baseVersion, modifiedAtMs, content: undefined };

  const content = change.content;
  if (!content) throw invalidArgument(`${field}.content is required unless delete is true`);
  const size = checkCount(content.size, `${field}.content.size`);
  content.blockHashes.forEach((hash, index) => {
    if (!isBlockHash(hash)) {
      throw invalidArgument(`${field}.content.block_hashes[${index}] is not a lowercase hex SHA-256`);
    }
  });
  if (content.contentHash !== contentHash(content.blockHashes)) {
    throw invalidArgument(
      `${field}.content.content_hash does not match block_hashes (SHA-256 over the raw block digests, in order)`,
    );
  }
  if ((size === 0) !== (content.blockHashes.length === 0)) {
    throw invalidArgument(
      `${field}.content: an empty file has no blocks and a non-empty file has at least one`,
    );
  }
  return {
    path,
    baseVersion,
    modifiedAtMs,
    content: { contentHash: content.contentHash, size, blockHashes: [...content.blockHashes] },
  };
}

/** DeleteFile's change: a tombstone stamped with the server's time. */
export function checkDelete(path: string, baseVersion: number, nowMs: number): FileChange {
  return {
    path: checkPath(path),
    baseVersion: checkCount(baseVersion, 'base_version'),
    modifiedAtMs: nowMs,
    content: undefined,
  };
}

export function checkChanges(changes: readonly metadata.FileChange[]): FileChange[] {
  if (changes.length === 0) throw invalidArgument('changes must not be empty');
  if (changes.length > LIMITS.maxChangesPerCommit) {
    throw invalidArgument(`at most ${LIMITS.maxChangesPerCommit} changes per call; split the commit`);
  }
  const checked = changes.map((change, index) => checkChange(change, `changes[${index}]`));
  const seen = new Set<string>();
  for (const change of checked) {
    if (seen.has(change.path)) throw invalidArgument(`changes name ${change.path} more than once`);
    seen.add(change.path);
  }
  return checked;
}

export function checkBlockHashes(hashes: readonly string[]): string[] {
  if (hashes.length > LIMITS.maxBlockHashesPerQuery) {
    throw invalidArgument(`at most ${LIMITS.maxBlockHashesPerQuery} block hashes per call`);
  }
  hashes.forEach((hash, index) => {
    if (!isBlockHash(hash)) throw invalidArgument(`block_hashes[${index}] is not a lowercase hex SHA-256`);
  });
  return [...hashes];
}

export const DEFAULT_JOURNAL_LIMIT = 100;
export const MAX_JOURNAL_LIMIT = 1000;

export function checkJournalQuery(afterCursor: number, limit: number): { afterSeq: number; limit: number } {
  const afterSeq = checkCount(afterCursor, 'after_cursor');
  if (limit === 0) return { afterSeq, limit: DEFAULT_JOURNAL_LIMIT };
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_JOURNAL_LIMIT) {
    throw invalidArgument(
      `limit must be between 1 and ${MAX_JOURNAL_LIMIT} (0 means ${DEFAULT_JOURNAL_LIMIT})`,
    );
  }
  return { afterSeq, limit };
}

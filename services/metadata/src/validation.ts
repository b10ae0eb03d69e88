import type { metadata } from '@filesync/contracts';
import { LIMITS } from '@filesync/resources';
import { invalidArgument, permissionDenied, type Principal } from '@filesync/server-kit';
import {
  InvalidPathError,
  canonicalPath,
  contentHash,
  isAtOrBelow,
  isBlockHash,
  packTrailerBytes,
} from '@filesync/sync-core';
import type { PackRegistration } from './domain/blocks';
import type { FileChange, PathRejection } from './domain/model';

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

/** One change refused on its own: CommitFiles reports it for that path, single-change RPCs answer it. */
export class ChangeRejectedError extends Error {
  override name = 'ChangeRejectedError';
  constructor(
    readonly reason: 'invalid-path' | 'invalid-change',
    message: string,
  ) {
    super(message);
  }
}

function canonical(path: string, field: string): string {
  try {
    return canonicalPath(path);
  } catch (error) {
    // The rule's message starts with "path ...": name the request field instead.
    if (error instanceof InvalidPathError)
      throw new ChangeRejectedError('invalid-path', `${field} ${error.message.replace(/^path /, '')}`);
    throw error;
  }
}

/** Runs a check whose refusal is a ChangeRejectedError and answers INVALID_ARGUMENT instead. */
function asInvalidArgument<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ChangeRejectedError) throw invalidArgument(error.message);
    throw error;
  }
}

export function checkPath(path: string, field = 'path'): string {
  return asInvalidArgument(() => canonical(path, field));
}

/** Up to `max` distinct canonical paths (GetFiles). */
export function checkPathList(paths: readonly string[], max: number): string[] {
  if (paths.length > max) throw invalidArgument(`at most ${max} paths per request`);
  const checked = paths.map((path, index) => checkPath(path, `paths[${index}]`));
  const seen = new Set<string>();
  for (const path of checked) {
    if (seen.has(path)) throw invalidArgument(`path ${JSON.stringify(path.slice(0, 200))} is named twice`);
    seen.add(path);
  }
  return checked;
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

function changeCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ChangeRejectedError('invalid-change', `${field} must be a non-negative integer`);
  }
  return value;
}

/**
 * Issue 6, kind 6: a time before 1970 or exactly 0 is a real file's time, never an error. Any
 * whole millisecond a Date can hold is accepted and stored exactly.
 */
function changeTime(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || Math.abs(value) > LIMITS.maxAbsModifiedAtMs) {
    throw new ChangeRejectedError(
      'invalid-change',
      `${field} must be whole milliseconds within ±${LIMITS.maxAbsModifiedAtMs} of 1970-01-01`,
    );
  }
  return value;
}

/** A change of a single-change RPC: any refusal answers INVALID_ARGUMENT. */
export function checkChange(change: metadata.FileChange | undefined, field = 'change'): FileChange {
  if (!change) throw invalidArgument(`${field} is required`);
  return asInvalidArgument(() => validChange(change, field));
}

/** Validates one change; a refusal is a ChangeRejectedError naming the field. */
function validChange(change: metadata.FileChange, field: string): FileChange {
  const path = canonical(change.path, `${field}.path`);
  const baseVersion = changeCount(change.baseVersion, `${field}.base_version`);
  const modifiedAtMs = changeTime(change.modifiedAtMs, `${field}.modified_at_ms`);
  const reject = (message: string) => new ChangeRejectedError('invalid-change', message);
  if (change.delete && change.moveFrom !== '') throw reject(`${field}: a move cannot be a deletion`);
  if (change.delete) return { path, baseVersion, modifiedAtMs, content: undefined };

  const content = change.content;
  if (!content) throw reject(`${field}.content is required unless delete is true`);
  const size = changeCount(content.size, `${field}.content.size`);
  content.blockHashes.forEach((hash, index) => {
    if (!isBlockHash(hash)) {
      throw reject(`${field}.content.block_hashes[${index}] is not a lowercase hex SHA-256`);
    }
  });
  if (content.contentHash !== contentHash(content.blockHashes)) {
    throw reject(
      `${field}.content.content_hash does not match block_hashes (SHA-256 over the raw block digests, in order)`,
    );
  }
  if ((size === 0) !== (content.blockHashes.length === 0)) {
    throw reject(`${field}.content: an empty file has no blocks and a non-empty file has at least one`);
  }
  const moveFrom = change.moveFrom === '' ? undefined : validMoveSource(change, path, field);
  return {
    path,
    baseVersion,
    modifiedAtMs,
    content: { contentHash: content.contentHash, size, blockHashes: [...content.blockHashes] },
    ...(moveFrom ? { moveFrom } : {}),
  };
}

/** A move's source: a canonical path apart from the target, at a synced version. */
function validMoveSource(change: metadata.FileChange, path: string, field: string): FileChange['moveFrom'] {
  const from = canonical(change.moveFrom, `${field}.move_from`);
  const baseVersion = changeCount(change.moveFromBaseVersion, `${field}.move_from_base_version`);
  const reject = (message: string) => new ChangeRejectedError('invalid-change', message);
  if (baseVersion === 0) throw reject(`${field}.move_from_base_version must name the version moved`);
  if (isAtOrBelow(from, path) || isAtOrBelow(path, from)) {
    throw reject(`${field}: a file cannot move to its own path or to a path at or below itself`);
  }
  return { path: from, baseVersion };
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

/** One change of a CommitFiles request: valid, or refused for its path alone. */
export type CheckedChange =
  | { readonly ok: true; readonly change: FileChange }
  | { readonly ok: false; readonly rejection: PathRejection };

/**
 * Issue 6, kind 7: a malformed request as a whole (no changes, too many, a path named twice) is
 * INVALID_ARGUMENT; a bad path or field of one change is a rejection of that path only, so the
 * request's other changes still commit.
 */
export function checkChanges(changes: readonly (metadata.FileChange | undefined)[]): CheckedChange[] {
  if (changes.length === 0) throw invalidArgument('changes must not be empty');
  if (changes.length > LIMITS.maxChangesPerCommit) {
    throw invalidArgument(`at most ${LIMITS.maxChangesPerCommit} changes per call; split the commit`);
  }
  const checked = changes.map((change, index): CheckedChange => {
    const field = `changes[${index}]`;
    if (!change) throw invalidArgument(`${field} is required`);
    try {
      return { ok: true, change: validChange(change, field) };
    } catch (error) {
      if (!(error instanceof ChangeRejectedError)) throw error;
      return {
        ok: false,
        rejection: { kind: 'rejected', path: change.path, reason: error.reason, message: error.message },
      };
    }
  });
  const seen = new Set<string>();
  for (const result of checked) {
    // A result is reported by path, so two changes of one path (even one invalid) would be
    // ambiguous. A change refused for another field still names a canonical path: two spellings
    // of it (NFC and NFD) are one path, whichever of the two changes is invalid.
    const path = result.ok ? result.change.path : canonicalOrAsNamed(result.rejection.path);
    if (seen.has(path)) throw invalidArgument(`changes name ${path} more than once`);
    seen.add(path);
  }
  // A move writes its source too: a path one change moves away no other change may name.
  for (const result of checked) {
    const from = result.ok ? result.change.moveFrom?.path : undefined;
    if (from === undefined) continue;
    if (seen.has(from)) throw invalidArgument(`changes name ${from} more than once (as a move's move_from)`);
    seen.add(from);
  }
  return checked;
}

/** The canonical form of a path, or the path as named when it cannot be canonicalised. */
function canonicalOrAsNamed(path: string): string {
  try {
    return canonicalPath(path);
  } catch (error) {
    if (error instanceof InvalidPathError) return path;
    throw error;
  }
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

/**
 * A RegisterPacks request: at most LIMITS.maxPacksPerRegister packs and
 * LIMITS.maxBlockHashesPerQuery blocks in all; each pack id a lowercase hex SHA-256, its size 1 to
 * LIMITS.maxPackBytes, its 1 to LIMITS.maxBlocksPerPack blocks in offset order, not overlapping,
 * inside the data section (size minus the trailer), each 1 to LIMITS.chunkMaxBytes long with a
 * valid hash. Throws INVALID_ARGUMENT naming the first offending field.
 */
export function checkPacks(packs: readonly metadata.Pack[]): PackRegistration[] {
  if (packs.length === 0) throw invalidArgument('packs must name at least one pack');
  if (packs.length > LIMITS.maxPacksPerRegister) {
    throw invalidArgument(`at most ${LIMITS.maxPacksPerRegister} packs per call, got ${packs.length}`);
  }
  const total = packs.reduce((sum, pack) => sum + pack.blocks.length, 0);
  if (total > LIMITS.maxBlockHashesPerQuery) {
    throw invalidArgument(`at most ${LIMITS.maxBlockHashesPerQuery} blocks per call, got ${total}`);
  }
  return packs.map((pack, index) => checkPack(pack, `packs[${index}]`));
}

function checkPack(pack: metadata.Pack, field: string): PackRegistration {
  if (!isBlockHash(pack.packId)) throw invalidArgument(`${field}.pack_id is not a lowercase hex SHA-256`);
  if (!Number.isSafeInteger(pack.size) || pack.size < 1 || pack.size > LIMITS.maxPackBytes) {
    throw invalidArgument(`${field}.size must be 1 to ${LIMITS.maxPackBytes} bytes, got ${pack.size}`);
  }
  const count = pack.blocks.length;
  if (count < 1 || count > LIMITS.maxBlocksPerPack) {
    throw invalidArgument(`${field}.blocks must hold 1 to ${LIMITS.maxBlocksPerPack} blocks, got ${count}`);
  }
  const dataEnd = pack.size - packTrailerBytes(count);
  let end = 0;
  const blocks = pack.blocks.map((block, index) => {
    const at = `${field}.blocks[${index}]`;
    if (!isBlockHash(block.blockHash))
      throw invalidArgument(`${at}.block_hash is not a lowercase hex SHA-256`);
    if (!Number.isSafeInteger(block.length) || block.length < 1 || block.length > LIMITS.chunkMaxBytes) {
      throw invalidArgument(`${at}.length must be 1 to ${LIMITS.chunkMaxBytes} bytes, got ${block.length}`);
    }
    if (!Number.isSafeInteger(block.offset) || block.offset < end) {
      throw invalidArgument(
        `${at}.offset ${block.offset} overlaps the block before it or is out of order (blocks in offset order, from ${end} on)`,
      );
    }
    end = block.offset + block.length;
    if (end > dataEnd) {
      throw invalidArgument(
        `${at} ends at byte ${end}, past the pack's data section (${Math.max(0, dataEnd)} bytes: size minus a ${packTrailerBytes(count)}-byte trailer)`,
      );
    }
    return { hash: block.blockHash, offset: block.offset, length: block.length };
  });
  return { packId: pack.packId, size: pack.size, blocks };
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

/** ListTrash's path_prefix: '' (the whole namespace) or a canonical path. */
/** ListFiles' path_prefix: '' (the whole namespace) or a canonical folder path. */
export function checkListPrefix(path: string): string {
  return path === '' ? '' : checkPath(path, 'path_prefix');
}

/** ListFiles' start_after: '' (from the first path) or a canonical path. */
export function checkListStartAfter(path: string): string {
  return path === '' ? '' : checkPath(path, 'start_after');
}

export function checkTrashPrefix(path: string): string {
  return path === '' ? '' : checkPath(path, 'path_prefix');
}

export function checkTrashLimit(limit: number): number {
  if (limit === 0) return LIMITS.trashPageSize;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.maxTrashPageSize) {
    throw invalidArgument(
      `limit must be between 1 and ${LIMITS.maxTrashPageSize} (0 means ${LIMITS.trashPageSize})`,
    );
  }
  return limit;
}

/**
 * Page tokens are opaque to clients: base64url JSON naming where a listing goes on. A token that
 * does not decode, or names a place outside the request's paths, is INVALID_ARGUMENT.
 */
export function encodePageToken(value: { index?: number; after: string }): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodePageToken(token: string, { allowRoot = false } = {}): { index: number; after: string } {
  const malformed = () => invalidArgument('page_token is malformed: pass next_page_token unchanged');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (typeof value !== 'object' || value === null) throw malformed();
  const { index = 0, after } = value as { index?: unknown; after?: unknown };
  if (typeof after !== 'string' || !Number.isSafeInteger(index) || (index as number) < 0) throw malformed();
  try {
    if (!(allowRoot && after === '') && canonicalPath(after) !== after) throw malformed();
  } catch {
    throw malformed();
  }
  return { index: index as number, after };
}

/** ListFollows' limit: 0 means LIMITS.followsPageSize. */
export function checkFollowsLimit(limit: number): number {
  if (limit === 0) return LIMITS.followsPageSize;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.maxFollowsPageSize) {
    throw invalidArgument(
      `limit must be between 1 and ${LIMITS.maxFollowsPageSize} (0 means ${LIMITS.followsPageSize})`,
    );
  }
  return limit;
}

/** ListFollows' page_token: the last path of the previous page ('' is the whole namespace). */
export function checkFollowsPageToken(token: string): string | undefined {
  if (token === '') return undefined;
  return decodePageToken(token, { allowRoot: true }).after;
}

/** ListTrash's page_token: the last path of the previous page, at or below the prefix. */
export function checkTrashPageToken(token: string, prefix: string): string | undefined {
  if (token === '') return undefined;
  const { after } = decodePageToken(token);
  if (!isAtOrBelow(after, prefix)) {
    throw invalidArgument('page_token belongs to another path_prefix: pass next_page_token unchanged');
  }
  return after;
}

/**
 * RestoreFiles' paths: 1 to LIMITS.maxPathsPerRestore canonical paths, none named twice or below
 * another (a file would be restored twice).
 */
export function checkRestorePaths(paths: readonly string[]): string[] {
  if (paths.length === 0) throw invalidArgument('paths must name at least one file or folder');
  if (paths.length > LIMITS.maxPathsPerRestore) {
    throw invalidArgument(`at most ${LIMITS.maxPathsPerRestore} paths per call, got ${paths.length}`);
  }
  const checked = paths.map((path, index) => checkPath(path, `paths[${index}]`));
  checked.forEach((path, index) => {
    const other = checked.findIndex((candidate, at) => at !== index && isAtOrBelow(path, candidate));
    if (other >= 0) {
      throw invalidArgument(
        path === checked[other]
          ? `paths[${index}] names ${JSON.stringify(path.slice(0, 200))} twice`
          : `paths[${index}] is below paths[${other}]: name the folder alone`,
      );
    }
  });
  return checked;
}

/** RestoreFiles' page_token: the named path to go on with, and the last file considered below it. */
export function checkRestorePageToken(
  token: string,
  paths: readonly string[],
): { index: number; afterPath: string } | undefined {
  if (token === '') return undefined;
  const { index, after } = decodePageToken(token);
  if (index >= paths.length || !isAtOrBelow(after, paths[index]!)) {
    throw invalidArgument('page_token belongs to other paths: pass next_page_token with the same paths');
  }
  return { index, afterPath: after };
}

/** RestoreVersion's version (1 or more) and base_version (0 or more). */
export function checkRestoreVersion(
  version: number,
  baseVersion: number,
): { version: number; baseVersion: number } {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw invalidArgument(`version must be 1 or more, got ${version}`);
  }
  return { version, baseVersion: checkCount(baseVersion, 'base_version') };
}

import { createHash } from 'node:crypto';

/**
 * Item keys of the metadata and outbox tables (the layout agreed in the build brief). Paths may
 * contain '#', so readers take a path from the item's `path` attribute, never from its key.
 *
 * Issue 6, kind 9: DynamoDB sort keys hold at most 1,024 bytes, paths up to 4,096. A key whose
 * path fits keeps the path itself (so every key written before stays valid); a longer one keeps
 * the path's first KEPT_PATH_BYTES (cut on a character boundary), a separator no path can
 * contain, and the SHA-256 of the whole path. Every key therefore starts with the first
 * ORDER_PREFIX_BYTES of its path: keys sort like paths except inside a group of paths sharing
 * those bytes, which the listing reader puts back in order (see path-order.ts).
 */
const pad = (n: number) => String(n).padStart(12, '0');

export const MAX_SORT_KEY_BYTES = 1024;
const KEPT_PATH_BYTES = 900;
/** A control character: the path rules refuse them, so a digested key never equals a path's. */
const DIGEST_SEPARATOR = '\u0001';
/** Every key of a path starts with this many of its bytes (a cut loses at most 3 bytes of a character). */
export const ORDER_PREFIX_BYTES = KEPT_PATH_BYTES - 4;

/** The longest prefix of `text` of at most maxBytes UTF-8 bytes that ends on a character boundary. */
export function utf8Prefix(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Continuation bytes are 10xxxxxx: back up to the start of the cut character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}

/** The path as it appears in a key whose other parts take `otherBytes` bytes. */
export function keyPath(path: string, otherBytes: number): string {
  if (Buffer.byteLength(path, 'utf8') + otherBytes <= MAX_SORT_KEY_BYTES) return path;
  const digest = createHash('sha256').update(path, 'utf8').digest('hex');
  // Keys with a long suffix (a follow's user id) keep fewer bytes; order only matters for
  // file keys, which keep KEPT_PATH_BYTES.
  const kept = Math.min(KEPT_PATH_BYTES, MAX_SORT_KEY_BYTES - otherBytes - 1 - digest.length);
  return `${utf8Prefix(path, Math.max(0, kept))}${DIGEST_SEPARATOR}${digest}`;
}

const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8');

export const nsKey = (namespaceId: string) => `NS#${namespaceId}`;
export const HEAD_KEY = 'HEAD';
export const FILE_PREFIX = 'FILE#';
export const fileKey = (path: string) => `${FILE_PREFIX}${keyPath(path, FILE_PREFIX.length)}`;
const VERSION_PREFIX = 'VER#';
/** Prefix and suffix around the path: `VER#` … `#000000000001`. */
const VERSION_OTHER_BYTES = VERSION_PREFIX.length + 1 + 12;
export const versionPrefix = (path: string) => `${VERSION_PREFIX}${keyPath(path, VERSION_OTHER_BYTES)}#`;
export const versionKey = (path: string, version: number) => `${versionPrefix(path)}${pad(version)}`;
/**
 * The key prefix every file key of a path below `folder` starts with: the folder and its slash,
 * cut so that it is a prefix of digested keys too (callers filter on the path attribute). Items
 * of the former live index (`LIVE#<path>`, issue 6) are neither written nor read any more.
 */
export const fileBelowPrefix = (folder: string) =>
  `${FILE_PREFIX}${utf8Prefix(`${folder}/`, ORDER_PREFIX_BYTES)}`;
/** Every file key of a path after `path` in path order is at least this (callers filter on the path attribute). */
export const fileGroupStart = (path: string) => `${FILE_PREFIX}${utf8Prefix(path, ORDER_PREFIX_BYTES)}`;
/**
 * Keys of the trash index (TRASH_INDEX, issue 8): the namespace, and the path keyed like a file
 * key (no prefix), so the index sorts like paths but for long paths sharing their first
 * ORDER_PREFIX_BYTES, which readers put back in order (path-order.ts).
 */
export const trashKey = (path: string) => keyPath(path, 0);
/** Every trash key of a path below `folder` starts with this (callers filter on the path attribute). */
export const trashBelowPrefix = (folder: string) => utf8Prefix(`${folder}/`, ORDER_PREFIX_BYTES);
/** Every trash key of a path after `path` in path order is at least this. */
export const trashGroupStart = (path: string) => utf8Prefix(path, ORDER_PREFIX_BYTES);
/**
 * Folder markers (issue 7): a folder that had a live file below it at some time. A new file's
 * path is checked against the tree with one batched read of these instead of a query per file.
 */
const FOLDER_PREFIX = 'FOLDER#';
export const folderKey = (path: string) => `${FOLDER_PREFIX}${keyPath(path, FOLDER_PREFIX.length)}`;
export const JOURNAL_PREFIX = 'JOURNAL#';
export const journalKey = (seq: number) => `${JOURNAL_PREFIX}${pad(seq)}`;
/** Greater than every journal key. */
export const JOURNAL_END = `${JOURNAL_PREFIX}${'9'.repeat(12)}~`;
export const FOLLOW_PREFIX = 'FOLLOW#';
export const followKey = (path: string, userId: string) =>
  `${FOLLOW_PREFIX}${keyPath(path, FOLLOW_PREFIX.length + 1 + bytesOf(userId))}#${userId}`;
export const blockItemKey = (hash: string) => `BLOCK#${hash}`;
export const packItemKey = (packId: string) => `PACK#${packId}`;
/** Part `index` of a long block list, content-addressed by the file's content hash (kind 10). */
export const blockListKey = (contentHash: string, index: number) =>
  `BLOCKLIST#${contentHash}#${String(index).padStart(6, '0')}`;

export const outboxKey = (eventId: string) => ({ pk: `EVENT#${eventId}`, sk: 'EVENT' });

/**
 * Item keys of the metadata and outbox tables (the layout agreed in the build brief). Paths may
 * contain '#', so readers take a path from the item's `path` attribute, never from its key.
 */
const pad = (n: number) => String(n).padStart(12, '0');

export const nsKey = (namespaceId: string) => `NS#${namespaceId}`;
export const HEAD_KEY = 'HEAD';
export const FILE_PREFIX = 'FILE#';
export const fileKey = (path: string) => `${FILE_PREFIX}${path}`;
export const versionPrefix = (path: string) => `VER#${path}#`;
export const versionKey = (path: string, version: number) => `${versionPrefix(path)}${pad(version)}`;
export const JOURNAL_PREFIX = 'JOURNAL#';
export const journalKey = (seq: number) => `${JOURNAL_PREFIX}${pad(seq)}`;
/** Greater than every journal key. */
export const JOURNAL_END = `${JOURNAL_PREFIX}${'9'.repeat(12)}~`;
export const FOLLOW_PREFIX = 'FOLLOW#';
export const followKey = (path: string, userId: string) => `${FOLLOW_PREFIX}${path}#${userId}`;
export const blockItemKey = (hash: string) => `BLOCK#${hash}`;

export const outboxKey = (eventId: string) => ({ pk: `EVENT#${eventId}`, sk: 'EVENT' });

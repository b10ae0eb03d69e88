import type { common } from '@filesync/contracts';
import { contentHash } from '@filesync/sync-core';

/** The content of an empty file: no blocks. */
export const EMPTY_CONTENT: common.FileContent = { contentHash: contentHash([]), size: 0, blockHashes: [] };

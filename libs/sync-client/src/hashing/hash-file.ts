import { chunkFile, contentHash } from '@filesync/sync-core';
import type { BlockRef } from '../state/state-db';

/** A file's blocks and content hash, as defined in filesync.common.v1.FileContent. */
export interface FileHash {
  readonly size: number;
  readonly contentHash: string;
  readonly blocks: readonly BlockRef[];
}

export async function hashFile(path: string): Promise<FileHash> {
  const blocks: BlockRef[] = [];
  let size = 0;
  for await (const chunk of chunkFile(path)) {
    blocks.push({ hash: chunk.hash, offset: chunk.offset, length: chunk.length });
    size += chunk.length;
  }
  return { size, contentHash: contentHash(blocks.map((block) => block.hash)), blocks };
}

/** Hashes files; an implementation may do so off the main thread. */
export interface Hasher {
  hash(path: string, size: number): Promise<FileHash>;
  close(): Promise<void>;
}

export const inlineHasher: Hasher = {
  hash: (path) => hashFile(path),
  close: async () => undefined,
};

import { chunkFile, contentHash, type ReferenceBlock } from '@filesync/sync-core';
import type { BlockRef } from '../state/state-db';
import {
  exactBlocks,
  hashFileInSegments,
  type HashedSegment,
  type SegmentBuffers,
  type SegmentLayout,
} from './hash-segments';

/** A file's blocks and content hash, as defined in filesync.common.v1.FileContent. */
export interface FileHash {
  readonly size: number;
  readonly contentHash: string;
  readonly blocks: readonly BlockRef[];
}

/**
 * A file's blocks and content hash. `reference`: the blocks this path held before (the state's
 * row), kept where their bytes still occur, so an edit re-uploads only the blocks it touches and
 * unchanged bytes keep their content hash (chunker.ts, Cutter).
 */
export async function hashFile(path: string, reference?: readonly ReferenceBlock[]): Promise<FileHash> {
  const blocks: BlockRef[] = [];
  let size = 0;
  for await (const chunk of chunkFile(path, { reference })) {
    blocks.push({ hash: chunk.hash, offset: chunk.offset, length: chunk.length });
    size += chunk.length;
  }
  return { size, contentHash: contentHash(blocks.map((block) => block.hash)), blocks: exactBlocks(blocks) };
}

/** Hashes files; an implementation may do so off the main thread. */
export interface Hasher {
  /** `reference`: see hashFile. */
  hash(path: string, size: number, reference?: readonly ReferenceBlock[]): Promise<FileHash>;
  /**
   * hashFileInSegments (hash-segments.ts): hashes like `hash` and hands the blocks' bytes to
   * `emit` as they are hashed, in buffers taken from `buffers`. Optional: a hasher without it
   * only hashes.
   */
  hashInSegments?(
    path: string,
    size: number,
    layout: SegmentLayout,
    buffers: SegmentBuffers,
    emit: (segment: HashedSegment) => void,
    reference?: readonly ReferenceBlock[],
  ): Promise<FileHash>;
  close(): Promise<void>;
}

export const inlineHasher: Hasher = {
  hash: (path, _size, reference) => hashFile(path, reference),
  hashInSegments: (path, _size, layout, buffers, emit, reference) =>
    hashFileInSegments(path, layout, buffers, emit, reference),
  close: async () => undefined,
};

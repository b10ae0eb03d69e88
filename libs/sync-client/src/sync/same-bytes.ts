import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { blockHash } from '@filesync/sync-core';

/**
 * Whether the regular file at `absPath` holds exactly `blocks` back to back (each the bytes
 * whose SHA-256 is its hash, `length` bytes long), and nothing after them. This compares
 * content without chunking it: two cuts of the same bytes (a chunk reference, another client's
 * chunker) give different block lists and content hashes for identical files.
 *
 * Reads one block at a time (at most LIMITS.chunkMaxBytes of memory); stops at the first block
 * that differs. Never follows a symlink and never blocks on a FIFO. Throws the file system's
 * errors (ENOENT...).
 */
export async function fileHoldsBlocks(
  absPath: string,
  blocks: readonly { readonly hash: string; readonly length: number }[],
): Promise<boolean> {
  const handle = await open(absPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    const total = blocks.reduce((sum, block) => sum + block.length, 0);
    if (!stats.isFile() || stats.size !== total) return false;
    const buffer = Buffer.allocUnsafe(blocks.reduce((most, block) => Math.max(most, block.length), 1));
    let position = 0;
    for (const { hash, length } of blocks) {
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      if (bytesRead !== length || blockHash(buffer.subarray(0, length)) !== hash) return false;
      position += length;
    }
    // Nothing past the last block (the file grew while it was read).
    const { bytesRead } = await handle.read(buffer, 0, 1, position);
    return bytesRead === 0;
  } finally {
    await handle.close();
  }
}

import { createHash } from 'node:crypto';

const BLOCK_HASH = /^[0-9a-f]{64}$/;

/** Lowercase hex SHA-256 of a block's bytes: its name in storage. */
export function blockHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isBlockHash(value: string): boolean {
  return BLOCK_HASH.test(value);
}

/**
 * The content hash of a file: SHA-256 over the concatenated raw digests of its blocks, in order
 * (see filesync.common.v1.FileContent). An empty file hashes zero bytes.
 */
export function contentHash(blockHashes: readonly string[]): string {
  const hash = createHash('sha256');
  for (const block of blockHashes) hash.update(Buffer.from(block, 'hex'));
  return hash.digest('hex');
}

import pLimit from 'p-limit';
import type { BlockStorage, KnownBlocks } from './ports';

/**
 * Answers which blocks a namespace lacks. Blocks already recorded as present are trusted; the
 * others are asked of storage (a bounded number at a time, or by one listing when many are
 * unknown), and those found are recorded so the next commit naming them costs one table read
 * instead of a storage request per block.
 */
export class BlockChecker {
  constructor(
    private readonly knownBlocks: KnownBlocks,
    private readonly storage: BlockStorage,
    private readonly concurrency = 16,
    /** From this many unknown blocks on, one listing of the namespace beats a request per block. */
    private readonly listThreshold = 32,
  ) {}

  /** The hashes that are not stored, each once, in the order first given. */
  async findMissing(namespaceId: string, hashes: readonly string[]): Promise<string[]> {
    const unique = [...new Set(hashes)];
    if (unique.length === 0) return [];
    const known = await this.knownBlocks.known(namespaceId, unique);
    const unknown = unique.filter((hash) => !known.has(hash));
    if (unknown.length === 0) return [];
    const present = await this.stored(namespaceId, unknown);
    const found = unknown.filter((_, index) => present[index]);
    if (found.length > 0) await this.knownBlocks.remember(namespaceId, found);
    return unknown.filter((_, index) => !present[index]);
  }

  private async stored(namespaceId: string, hashes: readonly string[]): Promise<boolean[]> {
    if (hashes.length >= this.listThreshold && this.storage.storedAmong) {
      try {
        const stored = await this.storage.storedAmong(namespaceId, new Set(hashes));
        return hashes.map((hash) => stored.has(hash));
      } catch {
        // Listing is only a shortcut: asking block by block gives the same answer.
      }
    }
    const limit = pLimit(this.concurrency);
    return Promise.all(hashes.map((hash) => limit(() => this.storage.exists(namespaceId, hash))));
  }
}

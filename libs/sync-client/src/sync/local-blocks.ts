import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { blockHash } from '@filesync/sync-core';
import type { BlockRef } from '../state/state-db';
import type { BlockSource, DownloadFile } from './downloader';

/** Where a block's bytes may be found on this device, as the scan saw the file. */
interface LocalBlock {
  readonly absPath: string;
  readonly offset: number;
  readonly length: number;
}

/** A local file as the scan hashed it: where it is and its blocks. */
export interface LocalBlockFile {
  readonly absPath: string;
  readonly blocks: readonly BlockRef[];
}

/** A local copy of a block no longer has the bytes its hash names (the file changed). */
export class LocalBlockChangedError extends Error {
  override name = 'LocalBlockChangedError';
}

/**
 * Blocks a download needs that files on this device already hold: a file renamed or copied on
 * another device, or a folder moved there, arrives without a byte from storage. Only the blocks
 * some download wants are indexed (memory follows the downloads, not the folder). Every block is
 * read at write time and checked against its hash, so a file changed since the scan is never
 * copied wrong: the download then fetches it from storage (LocalBlockChangedError).
 */
export class LocalBlocks {
  private readonly wanted = new Set<string>();
  private readonly found = new Map<string, LocalBlock>();

  constructor(downloads: Iterable<DownloadFile>) {
    for (const download of downloads) for (const hash of download.blockHashes) this.wanted.add(hash);
  }

  /** True when some block of `file` is wanted by a download. */
  holdsWanted(file: LocalBlockFile): boolean {
    return file.blocks.some((block) => this.wanted.has(block.hash));
  }

  /**
   * Offers the wanted blocks of a local file. The latest offer of a block wins: a file moved
   * aside is offered again at its new place.
   */
  add(file: LocalBlockFile): void {
    for (const block of file.blocks) {
      if (this.wanted.has(block.hash)) {
        this.found.set(block.hash, { absPath: file.absPath, offset: block.offset, length: block.length });
      }
    }
  }

  /** True when a local file offers the block `hash` (see read). */
  has(hash: string): boolean {
    return this.found.has(hash);
  }

  /**
   * The bytes of block `hash` from the local file that offered it, verified; undefined (and the
   * block never offered again) when that file no longer holds them.
   */
  async read(hash: string): Promise<Uint8Array | undefined> {
    const block = this.found.get(hash);
    if (!block) return undefined;
    const bytes = await readVerified(block, hash);
    if (!bytes) this.found.delete(hash);
    return bytes;
  }

  /** A source of every block of `file` from local files, or undefined when some block is not here. */
  sourceFor(file: DownloadFile): BlockSource | undefined {
    const blocks = file.blockHashes.map((hash) => this.found.get(hash));
    if (blocks.some((block) => block === undefined)) return undefined;
    return {
      block: async (index) => {
        const block = blocks[index]!;
        const expected = file.blockHashes[index]!;
        const bytes = await readVerified(block, expected);
        if (bytes) return bytes;
        // Never offered again: the next download of this block goes to storage.
        this.found.delete(expected);
        throw new LocalBlockChangedError(`${block.absPath} changed since the scan`);
      },
    };
  }
}

/**
 * `block`'s bytes when its file still holds `hash` there; undefined when changed, gone, unreadable
 * or no longer a regular file. The path is opened without following a symlink and without
 * blocking (a FIFO put in the file's place would otherwise hang the open for good), and read
 * only if it is still a regular file.
 */
async function readVerified(block: LocalBlock, hash: string): Promise<Uint8Array | undefined> {
  const bytes = Buffer.allocUnsafe(block.length);
  let read = 0;
  try {
    const handle = await open(
      block.absPath,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
    try {
      if ((await handle.stat()).isFile())
        read = (await handle.read(bytes, 0, block.length, block.offset)).bytesRead;
    } finally {
      await handle.close();
    }
  } catch {
    // Gone, unreadable or a symlink since the scan: storage has the block.
  }
  return read === block.length && blockHash(bytes) === hash ? bytes : undefined;
}

import { DomainError, invalidArgument } from '@filesync/server-kit';
import { InvalidPathError, canonicalPath, comparePaths, isBlockHash } from '@filesync/sync-core';
import type { LocalEntry } from '@filesync/sync-core';
import { isBelowRoot } from './remote-root';

/** Entries one diff may carry: far above a real folder, and a bound on the time one diff takes. */
export const MAX_MANIFEST_ENTRIES = 1_000_000;

/** A manifest entry as it arrives on the wire, before validation. */
export type ManifestEntryInput = LocalEntry;

/**
 * The client's manifest, read one entry at a time as the diff needs it: the client sends it
 * sorted by path (comparePaths, the order of the server listing), so the diff walks it beside
 * the listing and never holds more than the entry in hand. Entries are validated as they come;
 * one out of order or repeated ends the diff with INVALID_ARGUMENT.
 */
export class ManifestReader {
  private count = 0;
  private previous: string | undefined;

  /**
   * `remoteRoot`: the folder's remote root ('' = the namespace root); every entry must lie
   * strictly below it (see remote-root.ts).
   */
  constructor(
    private readonly source: AsyncIterator<ManifestEntryInput>,
    private readonly remoteRoot = '',
  ) {}

  /** Entries read so far. */
  get received(): number {
    return this.count;
  }

  /** The next entry in path order, or undefined once the client half-closed. */
  async next(): Promise<LocalEntry | undefined> {
    const item = await this.source.next();
    if (item.done) return undefined;
    const entry = validateEntry(item.value);
    if (!isBelowRoot(entry.path, this.remoteRoot)) {
      throw invalidArgument(
        `manifest entry ${quote(entry.path)} is not below the diff's remote_root ${quote(this.remoteRoot)}`,
      );
    }
    if (this.previous !== undefined) {
      const order = comparePaths(this.previous, entry.path);
      if (order === 0) {
        throw invalidArgument(`manifest names path ${quote(entry.path)} twice: send one entry per path`);
      }
      if (order > 0) {
        throw invalidArgument(
          `manifest entry ${quote(entry.path)} comes after ${quote(this.previous)}: send entries sorted ` +
            'by path in Unicode code point order (UTF-8 byte order; comparePaths in @filesync/sync-core)',
        );
      }
    }
    if (this.count >= MAX_MANIFEST_ENTRIES) {
      throw new DomainError(
        'resource-exhausted',
        `a manifest may hold at most ${MAX_MANIFEST_ENTRIES} entries`,
      );
    }
    this.count += 1;
    this.previous = entry.path;
    return entry;
  }
}

export function validateEntry(input: ManifestEntryInput): LocalEntry {
  let path: string;
  try {
    path = canonicalPath(input.path);
  } catch (error) {
    if (error instanceof InvalidPathError) {
      throw invalidArgument(`manifest entry ${quote(input.path)}: ${error.message}`);
    }
    throw error;
  }
  const where = `manifest entry ${quote(path)}`;
  if (!isHashOrEmpty(input.contentHash)) {
    throw invalidArgument(`${where}: content_hash must be 64 lowercase hex characters or empty`);
  }
  if (!isHashOrEmpty(input.baseContentHash)) {
    throw invalidArgument(`${where}: base_content_hash must be 64 lowercase hex characters or empty`);
  }
  if (!Number.isSafeInteger(input.size) || input.size < 0) {
    throw invalidArgument(`${where}: size must be a non-negative integer`);
  }
  if (!Number.isSafeInteger(input.baseVersion) || input.baseVersion < 0) {
    throw invalidArgument(`${where}: base_version must be a non-negative integer`);
  }
  return {
    path,
    contentHash: input.contentHash,
    size: input.size,
    baseVersion: input.baseVersion,
    baseContentHash: input.baseContentHash,
    deleted: input.deleted,
  };
}

function isHashOrEmpty(value: string): boolean {
  return value === '' || isBlockHash(value);
}

/** Quotes a client-sent path for an error message, shortened so a huge path cannot bloat it. */
function quote(path: string): string {
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return JSON.stringify(shown);
}

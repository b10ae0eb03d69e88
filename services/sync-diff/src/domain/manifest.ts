import { DomainError, invalidArgument } from '@filesync/server-kit';
import { InvalidPathError, canonicalPath, isBlockHash } from '@filesync/sync-core';
import type { LocalEntry } from './decide';

/** Entries one diff may carry; far above a real folder, low enough to bound server memory. */
export const MAX_MANIFEST_ENTRIES = 1_000_000;

/** A manifest entry as it arrives on the wire, before validation. */
export type ManifestEntryInput = LocalEntry;

/**
 * The client's manifest, keyed by canonical path. Held whole in memory (about 100k entries for
 * a large folder) because the server listing arrives in path order while the client may send
 * its entries in any order.
 */
export class Manifest {
  private readonly entries = new Map<string, LocalEntry>();

  get size(): number {
    return this.entries.size;
  }

  /** Validates and adds one entry; rejects bad fields and repeated paths with INVALID_ARGUMENT. */
  add(input: ManifestEntryInput): void {
    const entry = validateEntry(input);
    if (this.entries.has(entry.path)) {
      throw invalidArgument(`manifest names path ${quote(entry.path)} twice: send one entry per path`);
    }
    if (this.entries.size >= MAX_MANIFEST_ENTRIES) {
      throw new DomainError(
        'resource-exhausted',
        `a manifest may hold at most ${MAX_MANIFEST_ENTRIES} entries`,
      );
    }
    this.entries.set(entry.path, entry);
  }

  /** Removes and returns the entry of a path, so what is left afterwards is known only locally. */
  take(path: string): LocalEntry | undefined {
    const entry = this.entries.get(path);
    if (entry) this.entries.delete(path);
    return entry;
  }

  remaining(): IterableIterator<LocalEntry> {
    return this.entries.values();
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

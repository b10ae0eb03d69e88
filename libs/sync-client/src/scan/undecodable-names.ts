import { readdir } from 'node:fs/promises';
import { checkNameBytes, InvalidPathError } from '@filesync/sync-core';

/**
 * The names in `dir` whose bytes are not UTF-8, as a string readdir spells them (the bad bytes
 * read as U+FFFD), each with the path rules' reason. Such a name cannot be opened by its decoded
 * spelling, so without this check it would show up as "no such file" instead of what it is.
 * Only needed for a folder where readdir returned a U+FFFD.
 */
export async function undecodableNames(dir: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const raw of await readdir(dir, { encoding: 'buffer' })) {
    try {
      checkNameBytes(raw);
    } catch (error) {
      if (!(error instanceof InvalidPathError)) throw error;
      names.set(raw.toString('utf8'), error.message);
    }
  }
  return names;
}

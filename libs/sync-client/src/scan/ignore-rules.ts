import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ignore from 'ignore';

export const IGNORE_FILE = '.filesyncignore';
/** Prefix of the temp files downloads write before renaming them into place. */
export const TEMP_PREFIX = '.filesync-tmp-';

/** Which paths of a folder are not synced: .filesyncignore (gitignore syntax) and our temp files. */
export interface IgnoreRules {
  /** `path` is folder-relative with '/'; `directory` tells a folder from a file. */
  ignores(path: string, directory?: boolean): boolean;
}

export async function loadIgnoreRules(root: string): Promise<IgnoreRules> {
  let text = '';
  try {
    text = await readFile(join(root, IGNORE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return ignoreRules(text);
}

export function ignoreRules(text: string): IgnoreRules {
  const matcher = ignore().add(text);
  return {
    ignores(path, directory = false) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (name.startsWith(TEMP_PREFIX)) return true;
      return matcher.ignores(directory ? `${path}/` : path);
    },
  };
}

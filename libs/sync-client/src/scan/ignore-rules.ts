import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ignore from 'ignore';
import { isOurTempName } from '../storage/temp-name';

export const IGNORE_FILE = '.filesyncignore';

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
      // Our temp files are files; a folder is the user's whatever its name.
      if (!directory && isOurTempName(name)) return true;
      return matcher.ignores(directory ? `${path}/` : path);
    },
  };
}

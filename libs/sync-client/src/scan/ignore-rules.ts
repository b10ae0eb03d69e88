import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ignore from 'ignore';
import { isOurTempName } from '../storage/temp-name';

export const IGNORE_FILE = '.filesyncignore';

/** Which paths of a folder are not synced: .filesyncignore (gitignore syntax) and our temp files. */
export interface IgnoreRules {
  /** `path` is folder-relative with '/'; `directory` tells a folder from a file. */
  ignores(path: string, directory?: boolean): boolean;
  /**
   * Changes whenever the rules do ('' for none): a path the rules hid was not tracked, so
   * incremental passes kept under other rules know nothing of it (see StateDb.markSynced).
   */
  readonly fingerprint: string;
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

/**
 * Paths one matcher answers before it is replaced by a fresh one: the library caches the answer
 * for every path it was asked about, which for a scan of 100,000 files is about 15 MiB kept for
 * the whole pass. Its cache mostly pays off for the folders of the paths asked just before.
 */
const PATHS_PER_MATCHER = 10_000;

export function ignoreRules(text: string): IgnoreRules {
  let matcher = ignore().add(text);
  let asked = 0;
  // Most folders have no rules: asking the matcher about each of 20,000 paths anyway cost a
  // tenth of a no-op pass (it walks and caches every parent folder of every path).
  const hasRules = text.split(/\r?\n/).some((line) => line.trim() !== '' && !line.startsWith('#'));
  return {
    fingerprint: text === '' ? '' : createHash('sha256').update(text).digest('hex'),
    ignores(path, directory = false) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      // Our temp files are files; a folder is the user's whatever its name.
      if (!directory && isOurTempName(name)) return true;
      if (!hasRules) return false;
      if (++asked > PATHS_PER_MATCHER) {
        matcher = ignore().add(text);
        asked = 1;
      }
      return matcher.ignores(directory ? `${path}/` : path);
    },
  };
}

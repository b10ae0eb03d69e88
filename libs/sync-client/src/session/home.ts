import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HomeUnusableError } from './errors';

/**
 * Makes the home folder (mode 0700, with its missing parents) and checks this user may write in
 * it; throws HomeUnusableError saying why not. Not `mkdir(..., { recursive: true })`: Node's
 * retries a mkdir that answers ENOENT for ever (under /proc, say), so the command never ended.
 */
export async function prepareHome(home: string): Promise<void> {
  try {
    await makeFolder(home);
    await access(home, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new HomeUnusableError(home, error as NodeJS.ErrnoException);
  }
}

/** One mkdir per missing folder, parents first; a folder that still cannot be made is an error. */
async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return assertFolder(path);
    const parent = dirname(path);
    // ENOTDIR: a file somewhere above; going up finds which, so the message can name it.
    if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === path) throw error;
  }
  await makeFolder(dirname(path));
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (error) {
    // Made meanwhile by another process: fine.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await assertFolder(path);
  }
}

async function assertFolder(path: string): Promise<void> {
  if (!(await stat(path)).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', path });
  }
}

import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where a canonical (NFC) folder-relative path lives on disk: each segment that exists already is
 * taken as the file system spells it, so a file arriving from another device lands in the
 * existing folder even when that folder's name is NFD on disk (as macOS writes it), instead of in
 * a look-alike NFC twin. Two names that differ only by Unicode normalisation are one path.
 * Segments that do not exist yet keep the canonical spelling.
 */
export async function onDiskPath(root: string, path: string): Promise<string> {
  const segments = path.split('/');
  let current = root;
  for (const [index, segment] of segments.entries()) {
    const spelling = await existingSpelling(current, segment);
    if (spelling === undefined) return join(current, ...segments.slice(index));
    current = join(current, spelling);
  }
  return current;
}

/** The on-disk name in `folder` that is `segment` up to normalisation, if there is one. */
async function existingSpelling(folder: string, segment: string): Promise<string | undefined> {
  if (await exists(join(folder, segment))) return segment;
  const names = await readdir(folder).catch(() => [] as string[]);
  return names.find((name) => name.normalize('NFC') === segment);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

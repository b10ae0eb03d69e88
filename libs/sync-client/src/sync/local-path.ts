import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where a canonical (NFC) folder-relative path lives on disk: each segment that exists already is
 * taken as the file system spells it, so a file arriving from another device lands in the
 * existing folder even when that folder's name is NFD on disk (as macOS writes it), instead of in
 * a look-alike NFC twin. Two names that differ only by Unicode normalisation are one path.
 * Segments that do not exist yet keep the canonical spelling.
 */
export async function onDiskPath(root: string, path: string, spellings?: FolderSpellings): Promise<string> {
  const segments = path.split('/');
  let current = root;
  for (const [index, segment] of segments.entries()) {
    const spelling = await existingSpelling(current, segment, spellings);
    if (spelling === undefined) return join(current, ...segments.slice(index));
    current = join(current, spelling);
  }
  return current;
}

/**
 * The names of each folder that are not NFC, by their NFC form, listed once per folder: a pass
 * downloading thousands of files into one folder must not list it once per file (quadratic).
 * Names a pass creates are NFC and found by the direct lookup, so a listing stays valid for the
 * pass; a non-NFC name someone creates meanwhile is missed, and the download then lands beside
 * it under the canonical name (both kept; the next scan reports the pair).
 */
export class FolderSpellings {
  private readonly folders = new Map<string, Promise<Map<string, string>>>();

  nonCanonical(folder: string): Promise<Map<string, string>> {
    let listing = this.folders.get(folder);
    if (!listing) {
      listing = readdir(folder)
        .catch(() => [] as string[])
        .then((names) => {
          const byNfc = new Map<string, string>();
          for (const name of names) {
            const nfc = name.normalize('NFC');
            if (nfc !== name && !byNfc.has(nfc)) byNfc.set(nfc, name);
          }
          return byNfc;
        });
      this.folders.set(folder, listing);
    }
    return listing;
  }
}

/** The on-disk name in `folder` that is `segment` up to normalisation, if there is one. */
async function existingSpelling(
  folder: string,
  segment: string,
  spellings?: FolderSpellings,
): Promise<string | undefined> {
  if (await exists(join(folder, segment))) return segment;
  if (spellings) return (await spellings.nonCanonical(folder)).get(segment);
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

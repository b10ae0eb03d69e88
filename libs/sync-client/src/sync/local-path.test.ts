import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderSpellings, onDiskPath } from './local-path';

describe('onDiskPath', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-path-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds a folder spelled NFD on disk, with and without a pass-wide listing cache', async () => {
    const nfd = 'cafe\u0301';
    await mkdir(join(root, nfd));
    await writeFile(join(root, nfd, 'menu.txt'), 'x');
    const spellings = new FolderSpellings();
    for (const cache of [undefined, spellings]) {
      expect(await onDiskPath(root, 'caf\u00e9/menu.txt', cache)).toBe(join(root, nfd, 'menu.txt'));
      expect(await onDiskPath(root, 'caf\u00e9/new.txt', cache)).toBe(join(root, nfd, 'new.txt'));
      expect(await onDiskPath(root, 'other/new.txt', cache)).toBe(join(root, 'other', 'new.txt'));
    }
    // A file the pass itself creates (canonical name) is found by the direct lookup.
    await writeFile(join(root, nfd, 'late.txt'), 'x');
    expect(await onDiskPath(root, 'caf\u00e9/late.txt', spellings)).toBe(join(root, nfd, 'late.txt'));
  });
});

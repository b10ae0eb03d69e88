import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafePaths, UNSAFE_PATH_REASONS, UnsafePathError } from './safe-path';

describe('kind 3: SafePaths never lets a write go through a symlink', () => {
  let root: string;
  let outside: string;
  let safe: SafePaths;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'safe-root-'));
    outside = await mkdtemp(join(tmpdir(), 'safe-outside-'));
    safe = new SafePaths(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  const refusal = (reason: string) =>
    expect.objectContaining({ name: UnsafePathError.name, message: reason });

  it('creates missing folders one level at a time below real folders', async () => {
    await mkdir(join(root, 'a'));
    await safe.checkTarget(join(root, 'a', 'b', 'c', 'file.txt'), { create: true });
    expect(await readdir(join(root, 'a', 'b'))).toEqual(['c']);
    await safe.checkTarget(join(root, 'top.txt'));
  });

  it('refuses a symlink anywhere on the chain, creating nothing through it', async () => {
    await mkdir(join(root, 'real'));
    await symlink(outside, join(root, 'real', 'docs'));
    await expect(
      safe.checkTarget(join(root, 'real', 'docs', 'new', 'file.txt'), { create: true }),
    ).rejects.toEqual(refusal(UNSAFE_PATH_REASONS.symlinkOnPath));
    await expect(safe.checkFolder(join(root, 'real', 'docs'))).rejects.toEqual(
      refusal(UNSAFE_PATH_REASONS.symlinkOnPath),
    );
    expect(await readdir(outside)).toEqual([]);
  });

  it('refuses a file where a folder should be, and a target that is itself a symlink', async () => {
    await writeFile(join(root, 'notes'), 'a file');
    await expect(safe.checkTarget(join(root, 'notes', 'part1.txt'), { create: true })).rejects.toEqual(
      refusal(UNSAFE_PATH_REASONS.notAFolderOnPath),
    );
    await symlink(join(outside, 'x.txt'), join(root, 'link.txt'));
    await expect(safe.checkTarget(join(root, 'link.txt'))).rejects.toEqual(
      refusal(UNSAFE_PATH_REASONS.symlinkAtPath),
    );
  });

  it('refuses paths outside the root, and never re-creates a root that is gone', async () => {
    await expect(safe.checkTarget(join(outside, 'x.txt'))).rejects.toEqual(
      refusal(UNSAFE_PATH_REASONS.outside),
    );
    await rm(root, { recursive: true });
    await expect(safe.checkTarget(join(root, 'a', 'x.txt'), { create: true })).rejects.toThrow('is gone');
    await expect(readdir(root)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

import {
  appendFile,
  chmod,
  lstat,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isWhatWasWritten, writeFileAtomically } from './atomic-write';
import { isOurTempName } from './temp-name';

describe('writeFileAtomically', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces the target and leaves no temp file behind', async () => {
    const target = join(dir, 'sub', 'file.txt');
    await writeFileAtomically(target, async (handle) => void (await handle.write('first')));
    await writeFileAtomically(target, async (handle) => void (await handle.write('second')), {
      mtimeMs: 1_600_000_000_000,
    });
    expect(await readFile(target, 'utf8')).toBe('second');
    expect((await stat(target)).mtimeMs).toBe(1_600_000_000_000);
    expect(await readdir(join(dir, 'sub'))).toEqual(['file.txt']);
  });

  it('tells whether the target is still the file it wrote: an edit or a replacement since is not', async () => {
    const target = join(dir, 'file.txt');
    const mtimeMs = 1_600_000_000_000;
    const write = () =>
      writeFileAtomically(target, async (handle) => void (await handle.write('ours')), { mtimeMs });
    let wrote = await write();
    expect(wrote.size).toBe(4);
    expect(isWhatWasWritten(await lstat(target), wrote)).toBe(true);
    // Edited in place, its mtime put back: the size gives it away.
    await appendFile(target, '!');
    await utimes(target, new Date(mtimeMs), new Date(mtimeMs));
    expect(isWhatWasWritten(await lstat(target), wrote)).toBe(false);
    // Replaced by another file of the same size and mtime (an editor's save): another inode.
    wrote = await write();
    await writeFile(join(dir, 'other'), 'ours');
    await utimes(join(dir, 'other'), new Date(mtimeMs), new Date(mtimeMs));
    await rename(join(dir, 'other'), target);
    expect(isWhatWasWritten(await lstat(target), wrote)).toBe(false);
    expect(isWhatWasWritten(undefined, wrote)).toBe(false);
  });

  it('keeps the old content and removes the temp file when writing fails', async () => {
    const target = join(dir, 'file.txt');
    await writeFile(target, 'old');
    await expect(
      writeFileAtomically(target, async (handle) => {
        await handle.write('partial');
        throw new Error('network gone');
      }),
    ).rejects.toThrow('network gone');
    await expect(
      writeFileAtomically(target, async (handle) => void (await handle.write('new')), {
        beforeReplace: async () => {
          throw new Error('changed locally');
        },
      }),
    ).rejects.toThrow('changed locally');
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['file.txt']);
  });

  it('a replaced file keeps its permission bits (a private file stays private); a new file gets the usual ones', async () => {
    const target = join(dir, 'private.txt');
    await writeFile(target, 'old');
    await chmod(target, 0o600);
    await writeFileAtomically(target, async (handle) => void (await handle.write('new')));
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    await chmod(target, 0o640);
    await writeFileAtomically(target, async (handle) => void (await handle.write('newer')), {
      // The user changes the mode while the download runs: the mode at the rename wins.
      beforeReplace: async () => chmod(target, 0o400),
    });
    expect((await stat(target)).mode & 0o777).toBe(0o400);
    expect(await readFile(target, 'utf8')).toBe('newer');
    const fresh = join(dir, 'fresh.txt');
    await writeFileAtomically(fresh, async (handle) => void (await handle.write('x')));
    expect((await stat(fresh)).mode & 0o777).toBe(0o644 & ~process.umask());
  });

  it('kind 8: its temp files are exactly the names the scan removes as ours', async () => {
    const names: string[] = [];
    const target = join(dir, 'file.txt');
    await writeFileAtomically(target, async () => {
      names.push(...(await readdir(dir)).filter((name) => name !== 'file.txt'));
    });
    expect(names).toHaveLength(1);
    expect(isOurTempName(names[0]!)).toBe(true);
    expect(names[0]).toMatch(/^\.filesync-tmp-[0-9a-f]{16}$/);
  });
});

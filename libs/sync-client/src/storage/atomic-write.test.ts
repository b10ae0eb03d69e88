import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-write';

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
});

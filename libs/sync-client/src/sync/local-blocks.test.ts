import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockHash } from '@filesync/sync-core';
import { LocalBlocks } from './local-blocks';

// Real files in a temporary folder: what a local copy may have turned into since the scan.
describe('LocalBlocks.read', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'local-blocks-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function indexed(name: string) {
    const bytes = randomBytes(4096);
    const hash = blockHash(bytes);
    const absPath = join(dir, name);
    await writeFile(absPath, bytes);
    const local = new LocalBlocks([{ path: 'wanted', size: bytes.length, blockHashes: [hash] }]);
    local.add({ absPath, blocks: [{ hash, offset: 0, length: bytes.length }] });
    return { local, hash, absPath, bytes };
  }

  it('reads a block its file still holds, verified', async () => {
    const { local, hash, bytes } = await indexed('a.bin');
    expect(local.has(hash)).toBe(true);
    expect(Buffer.from((await local.read(hash))!).equals(bytes)).toBe(true);
  });

  it('a FIFO in the file’s place is not waited on: the block comes from storage instead', async () => {
    const { local, hash, absPath } = await indexed('b.bin');
    await rm(absPath);
    execFileSync('mkfifo', [absPath]);
    await expect(local.read(hash)).resolves.toBeUndefined();
    expect(local.has(hash)).toBe(false);
  });

  it('a symlink in the file’s place is not followed, even to the same bytes', async () => {
    const { local, hash, absPath, bytes } = await indexed('c.bin');
    const elsewhere = join(dir, 'elsewhere.bin');
    await writeFile(elsewhere, bytes);
    await rm(absPath);
    await symlink(elsewhere, absPath);
    await expect(local.read(hash)).resolves.toBeUndefined();
  });

  it('a file changed since the scan is not read as the block', async () => {
    const { local, hash, absPath } = await indexed('d.bin');
    await writeFile(absPath, randomBytes(4096));
    await expect(local.read(hash)).resolves.toBeUndefined();
  });
});

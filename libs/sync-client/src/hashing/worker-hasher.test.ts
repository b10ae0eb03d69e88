import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile } from './hash-file';
import { WorkerHasher } from './worker-hasher';

describe('WorkerHasher', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hasher-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes on worker threads exactly like inline hashing', async () => {
    const files = await Promise.all(
      [0, 1, 2].map(async (n) => {
        const path = join(dir, `f${n}`);
        await writeFile(path, Buffer.alloc(600 * 1024 + n, n + 1));
        return path;
      }),
    );
    const hasher = new WorkerHasher(2, 1);
    try {
      const results = await Promise.all(files.map((path) => hasher.hash(path, 1024 * 1024)));
      expect(results).toEqual(await Promise.all(files.map((path) => hashFile(path))));
      await expect(hasher.hash(join(dir, 'missing'), 1024 * 1024)).rejects.toThrow('ENOENT');
    } finally {
      await hasher.close();
    }
  }, 30_000);

  it('cuts against a reference on the worker as inline hashing does', async () => {
    const original = Buffer.alloc(6 * 1024 * 1024);
    let x = 99;
    for (let i = 0; i < original.length; i++)
      original[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    const before = join(dir, 'before');
    await writeFile(before, original);
    const reference = (await hashFile(before)).blocks;
    // 1 MiB inserted: plain chunking of these bytes falls back onto the old cuts later than a cut
    // against the old blocks does, so the two give different blocks.
    const path = join(dir, 'after');
    const at = 3 * 1024 * 1024 + 999;
    await writeFile(
      path,
      Buffer.concat([original.subarray(0, at), Buffer.alloc(1024 * 1024, 3), original.subarray(at)]),
    );
    const hasher = new WorkerHasher(1, 1);
    try {
      const onWorker = await hasher.hash(path, original.length + 1024 * 1024, reference);
      expect(onWorker).toEqual(await hashFile(path, reference));
      expect(onWorker.contentHash).not.toBe((await hashFile(path)).contentHash);
    } finally {
      await hasher.close();
    }
  }, 30_000);
});

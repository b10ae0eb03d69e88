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
});

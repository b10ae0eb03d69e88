import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareTrees,
  GiB,
  KiB,
  MiB,
  parseSize,
  planSmallFiles,
  sameTree,
  writeSmallFiles,
} from './small-files';

describe('planSmallFiles: the same seed plans the same folder on every run', () => {
  it('draws sizes within bounds, reproducibly, 100 files a folder', () => {
    const spec = { count: 1_000, minBytes: KiB, maxBytes: 16 * KiB, seed: 7 };
    const plan = planSmallFiles(spec);
    expect(plan).toHaveLength(1_000);
    expect(plan).toEqual(planSmallFiles(spec));
    expect(plan.every((file) => file.size >= KiB && file.size <= 16 * KiB)).toBe(true);
    expect(new Set(plan.map((file) => file.size)).size).toBeGreaterThan(500);
    expect(new Set(plan.map((file) => file.path.split('/')[0])).size).toBe(10);
    expect(planSmallFiles({ ...spec, seed: 8 })).not.toEqual(plan);
  });
});

describe('writeSmallFiles and compareTrees', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'bench-small-files-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes the same bytes for the same seed, and finds missing, extra and changed files', async () => {
    const plan = planSmallFiles({ count: 20, minBytes: 10, maxBytes: 100, seed: 3 });
    const total = await writeSmallFiles(join(root, 'a'), plan, 3);
    await writeSmallFiles(join(root, 'b'), plan, 3);
    expect(total).toBe(plan.reduce((sum, file) => sum + file.size, 0));
    expect(sameTree(await compareTrees(join(root, 'a'), join(root, 'b')))).toBe(true);

    const [first, second] = plan;
    await rm(join(root, 'b', first!.path));
    await writeFile(join(root, 'b', 'extra.txt'), 'x');
    const changed = join(root, 'b', second!.path);
    const bytes = await readFile(changed);
    bytes[0] = bytes[0]! ^ 1;
    await writeFile(changed, bytes);
    expect(await compareTrees(join(root, 'a'), join(root, 'b'))).toEqual({
      missing: [first!.path],
      extra: ['extra.txt'],
      different: [second!.path],
    });
  });
  it('finds a difference in the last byte of a file too large to read whole', async () => {
    const bytes = Buffer.alloc(9 * MiB, 7);
    await Promise.all(['a', 'b'].map((side) => mkdir(join(root, side), { recursive: true })));
    await writeFile(join(root, 'a', 'big.bin'), bytes);
    await writeFile(join(root, 'b', 'big.bin'), bytes);
    expect(sameTree(await compareTrees(join(root, 'a'), join(root, 'b')))).toBe(true);
    bytes[bytes.length - 1] = 8;
    await writeFile(join(root, 'b', 'big.bin'), bytes);
    expect(await compareTrees(join(root, 'a'), join(root, 'b'))).toEqual({
      missing: [],
      extra: [],
      different: ['big.bin'],
    });
  });
});

describe('parseSize', () => {
  it('reads binary units and plain bytes, and refuses anything else', () => {
    expect(parseSize('1GiB')).toBe(GiB);
    expect(parseSize('64MiB')).toBe(64 * MiB);
    expect(parseSize('64M')).toBe(64 * MiB);
    expect(parseSize('16 KiB')).toBe(16 * KiB);
    expect(parseSize('1.5GiB')).toBe(1.5 * GiB);
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('0')).toBe(0);
    expect(() => parseSize('lots')).toThrow('not a size');
  });
});
